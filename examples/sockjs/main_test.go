package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startSockJS runs the program as main does, on a free port.
func startSockJS(t *testing.T, modules string) *extest.Program {
	return extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", modules, out)
	})
}

// TestRoutes checks the ordinary routes next to the SockJS endpoint: the
// page, the health check, SockJS's own info route, and the browser script
// when node_modules lacks it.
func TestRoutes(t *testing.T) {
	prog := startSockJS(t, t.TempDir()) // an empty node_modules
	if code, body := extest.Get(t, prog.URL+"/"); code != 200 || !strings.Contains(body, `<script src="/vendor/sockjs.min.js">`) {
		t.Errorf("page: %d %.100s", code, body)
	}
	if code, body := extest.Get(t, prog.URL+"/healthz"); code != 200 || body != "ok: 0 session(s)\n" {
		t.Errorf("healthz: %d %q", code, body)
	}
	if code, body := extest.Get(t, prog.URL+"/rpc/info"); code != 200 || !strings.Contains(body, `"websocket":true`) {
		t.Errorf("SockJS info: %d %q", code, body)
	}
	if code, body := extest.Get(t, prog.URL+"/vendor/sockjs.min.js"); code != 404 || !strings.Contains(body, "npm ci") {
		t.Errorf("script without npm: %d %q", code, body)
	}
	if code, _ := extest.Get(t, prog.URL+"/elsewhere"); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
	if _, err := prog.Out.Wait(context.Background(), "note: sockjs-client not found"); err != nil {
		t.Fatal(err)
	}
}

// TestSockJSClient runs npm sockjs-client (with json-rpc-2.0, no Parley
// code) under node against the program, over a WebSocket and over two
// HTTP transports: the client calls the server, the server calls the
// client, and both sides print what they got.
func TestSockJSClient(t *testing.T) {
	dir := nodetest.Setup(t, ".")
	prog := startSockJS(t, "")
	if code, body := extest.Get(t, prog.URL+"/vendor/sockjs.min.js"); code != 200 || !strings.Contains(body, "SockJS") {
		t.Fatalf("sockjs-client from node_modules: %d %.80q", code, body)
	}
	for _, transport := range []string{"xhr-streaming", "xhr-polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			name := "node-" + transport
			out := nodetest.Run(ctx, t, dir, "testdata/client.js", prog.URL+"/rpc", transport, name)
			var got struct {
				Transport string
				Sum       int
				Hello     string
				Unknown   int
				Asked     int
				Error     string
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("client output: %v\n%s", err, out)
			}
			if got.Error != "" || got.Transport != transport || got.Sum != 9 ||
				!strings.HasPrefix(got.Hello, "Hello, "+name+"! The server's clock says ") ||
				got.Unknown != -32601 || got.Asked != 1 {
				t.Fatalf("client saw: %+v", got)
			}
			line, err := prog.Out.Wait(ctx, `is "`+name+`" over `)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(line, " over "+transport) {
				t.Errorf("server: %q", line)
			}
		})
	}
}
