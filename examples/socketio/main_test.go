package main

import (
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startSocketIO runs the program as main does, on a free port.
func startSocketIO(t *testing.T, modules string, legacy bool) *extest.Program {
	return extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", modules, legacy, out)
	})
}

// TestRoutes checks the page and the script route of both servers when
// node_modules lacks socket.io-client.
func TestRoutes(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		prog := startSocketIO(t, t.TempDir(), legacy)
		if code, body := extest.Get(t, prog.URL+"/"); code != 200 || !strings.Contains(body, `<script src="/vendor/socket.io.js">`) {
			t.Errorf("legacy %v: page: %d %.100s", legacy, code, body)
		}
		if code, body := extest.Get(t, prog.URL+"/vendor/socket.io.js"); code != 404 || !strings.Contains(body, "npm ci") {
			t.Errorf("legacy %v: script without npm: %d %q", legacy, code, body)
		}
		if _, err := prog.Out.Wait(context.Background(), "note: socket.io-client not found"); err != nil {
			t.Fatal(err)
		}
		if err := prog.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSocketIOClients runs two npm socket.io-client 4 clients (plain
// socket.io code: no Parley, no JSON-RPC) under node against the program,
// one over websocket, one over polling upgraded to websocket: each uses
// the server's own events (echo, chat), calls the router's methods as
// events with acknowledgements (a result, the name from the handshake,
// an error for wrong params), and answers the server's whoami call; the
// server prints both kinds of traffic.
func TestSocketIOClients(t *testing.T) {
	dir := nodetest.Setup(t, ".")
	prog := startSocketIO(t, "", false)
	if code, body := extest.Get(t, prog.URL+"/vendor/socket.io.js"); code != 200 || !strings.Contains(body, "socket.io") {
		t.Fatalf("socket.io-client from node_modules: %d %.80q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	for _, c := range []struct{ name, transports string }{{"node-1", "websocket"}, {"node-2", "upgrade"}} {
		out := nodetest.Run(ctx, t, dir, "testdata/client.mjs", prog.URL, c.name, c.transports)
		var got struct {
			Echo      string
			Sum       int
			Hello     string
			BadParams struct{ Error struct{ Code int } }
			ChatAck   string
			Chat      []string
			Question  map[string]string
			Transport string
			Error     string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("client output: %v\n%s", err, out)
		}
		if got.Error != "" || got.Echo != "echo: x" || got.Sum != 9 ||
			!strings.HasPrefix(got.Hello, "Hello, "+c.name+"! The server's clock says ") ||
			got.BadParams.Error.Code != -32602 || got.ChatAck != "sent" || !slices.Contains(got.Chat, c.name+": hi from node") ||
			got.Question["asker"] != "the server" || got.Transport != "websocket" {
			t.Fatalf("%s saw: %+v", c.name, got)
		}
		for _, want := range []string{
			"socket.io: " + c.name + " connected",
			"chat " + c.name + ": hi from node",
			`rpc: asked ` + c.name + ` who it is: "` + c.name + `" (node v`,
			"socket.io: " + c.name + " left",
		} {
			if _, err := prog.Out.Wait(ctx, want); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLegacyClients runs two npm socket.io-client 2 clients (with
// json-rpc-2.0, no Parley code) under node against the -legacy program
// (go-socket.io), one after the other: each uses the server's own events
// (echo, chat) and calls over Parley on the "rpc" event both ways.
func TestLegacyClients(t *testing.T) {
	dir := nodetest.Setup(t, ".")
	prog := startSocketIO(t, "", true)
	if code, body := extest.Get(t, prog.URL+"/vendor/socket.io.js"); code != 200 || !strings.Contains(body, "io") {
		t.Fatalf("socket.io-client from node_modules: %d %.80q", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	for _, name := range []string{"node-1", "node-2"} {
		out := nodetest.Run(ctx, t, dir, "testdata/legacy-client.js", prog.URL, name)
		var got struct {
			Echo    string
			Sum     int
			Hello   string
			Unknown int
			ChatAck string
			Chat    []string
			Asked   bool
			Error   string
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("client output: %v\n%s", err, out)
		}
		if got.Error != "" || got.Echo != "echo: x" || got.Sum != 9 ||
			!strings.HasPrefix(got.Hello, "Hello, "+name+"! The server's clock says ") ||
			got.Unknown != -32601 || got.ChatAck != "sent" || !slices.Contains(got.Chat, name+": hi from node") || !got.Asked {
			t.Fatalf("%s saw: %+v", name, got)
		}
		for _, want := range []string{
			"socket.io: " + name + " connected",
			"chat " + name + ": hi from node",
			`rpc: asked ` + name + ` who it is: "` + name + `" (node v`,
			"socket.io: " + name + " left",
		} {
			if _, err := prog.Out.Wait(ctx, want); err != nil {
				t.Fatal(err)
			}
		}
	}
}
