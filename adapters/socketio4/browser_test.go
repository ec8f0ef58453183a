package socketio4_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/internal/browsertest"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// browserScripts drives Chromium: the examples' playwright-core scripts
// (page.mjs), shared by every browser test.
const browserScripts = "../../examples/internal/browser"

// browserText is what the server echoes through the page's JSON-RPC
// peers: characters that JSON and CBOR must carry unchanged.
const browserText = "héllo \u2028 <&> \"quoted\" \\ 😀"

// TestBrowser loads testdata/browser/index.html in headless Chromium with
// socket.io-client 4's own browser build (its dist bundle, served from
// testdata/node/node_modules as installed by the package-lock), json-rpc-2.0
// and cborg. Three sockets, calls both ways in both styles: plain
// socket.io (emitWithAck served by the router, including a failure and a
// call back into the page; the server's calls answered by the page's
// acknowledgements, including an error) over polling upgraded to
// websocket; json-rpc-2.0 on the "rpc" event in JSON over websocket and
// in CBOR (binary attachments) over polling.
func TestBrowser(t *testing.T) {
	t0 := time.Now()
	scripts := browsertest.Browser(t, browserScripts)
	modules := filepath.Join(nodetest.Setup(t, "testdata/node"), "node_modules")
	bundle, err := commonJSBundle(filepath.Join(modules, "json-rpc-2.0", "dist"), "./index", "JSONRPC")
	if err != nil {
		t.Fatal(err)
	}

	type serverSide struct {
		label, codec, echo string
		mul                int
		localTime          map[string]string
		errs               []error // unexpected errors
		refuseErr          error
	}
	got := make(chan serverSide, 3)
	notes := make(chan string, 1)
	r := testRouter(notes)
	r.Register("echo", rpc.Func(func(_ context.Context, p [1]string) (string, error) { return p[0], nil }))
	f := newFixture(t, socketio4.ServerOptions{
		Handler: r,
		Accept:  acceptToken,
		OnConnect: func(p *rpc.Peer, s *socket.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			res := serverSide{codec: p.Codec().Name()}
			res.label, _ = s.Handshake().Auth["label"].(string)
			var err error
			if res.mul, err = rpc.Call[int](ctx, p, "mul", []int{6, 7}); err != nil {
				res.errs = append(res.errs, fmt.Errorf("mul: %w", err))
			}
			if res.label == "events" {
				_ = p.Notify(ctx, "hello", []string{"from OnConnect"})
				if res.localTime, err = rpc.Call[map[string]string](ctx, p, "localTime", map[string]string{"zone": "UTC"}); err != nil {
					res.errs = append(res.errs, fmt.Errorf("localTime: %w", err))
				}
				_, res.refuseErr = rpc.Call[any](ctx, p, "refuse", nil)
			} else if res.echo, err = rpc.Call[string](ctx, p, "echo", []string{browserText}); err != nil {
				res.errs = append(res.errs, fmt.Errorf("echo: %w", err))
			}
			got <- res
			_ = p.Notify(ctx, "bye", []string{"done"})
		},
	}, browserServerOpts(), func(io *socket.Server) {
		_ = io.On("connection", func(args ...any) {
			s := args[0].(*socket.Socket)
			_ = s.On("chat", func(args ...any) {
				if ack, ok := args[len(args)-1].(socket.Ack); ok {
					ack([]any{fmt.Sprint("echo: ", args[0])}, nil)
				}
			})
		})
	})
	page, err := os.ReadFile("testdata/browser/index.html")
	if err != nil {
		t.Fatal(err)
	}
	f.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	f.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent) // no 404 in the page's console
	})
	f.mux.HandleFunc("GET /vendor/socket.io.min.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(modules, "socket.io-client", "dist", "socket.io.min.js"))
	})
	f.mux.HandleFunc("GET /vendor/json-rpc-2.0.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(bundle)
	})
	f.mux.Handle("GET /vendor/cborg/", http.StripPrefix("/vendor/cborg/", http.FileServer(http.Dir(filepath.Join(modules, "cborg")))))

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // a few seconds, unless the machine is loaded
	defer cancel()

	done := `^(\{|failed)`
	v := browsertest.RunPage(ctx, t, scripts, f.url+"/", browsertest.Screenshot(t, "socketio4.png"), browsertest.Plan{
		Steps: []browsertest.Step{{Wait: "#events", Match: done}, {Wait: "#jsonrpc", Match: done}, {Wait: "#cbor", Match: done}},
		Read:  []string{"#events", "#jsonrpc", "#cbor"},
	})
	t.Logf("page done after %v", time.Since(t0))
	if len(v.Errors) > 0 {
		t.Errorf("errors in the page: %q", v.Errors)
	}
	if !strings.Contains(v.Agent, "HeadlessChrome/") {
		t.Errorf("user agent %q: not Chromium?", v.Agent)
	}

	var events struct {
		Add, Named, Fails, Callback, Whoami outcome
		Own, Hello, Bye, Transport          string
	}
	pageJSON(t, v.Texts["#events"], &events)
	events.Add.is(t, "events: add", "3")
	events.Named.is(t, "events: greet", `"hello, browser"`)
	events.Fails.fails(t, "events: fail", rpc.CodeServerError)
	events.Callback.is(t, "events: callback", "42")
	events.Whoami.is(t, "events: whoami", `"user:secret"`)
	if events.Own != "echo: hi" || events.Hello != "from OnConnect" || events.Bye != "done" {
		t.Errorf("events: own event %q, hello %q, bye %q", events.Own, events.Hello, events.Bye)
	}
	if events.Transport != "websocket" {
		t.Errorf("events: the page ended on transport %q, want websocket (upgraded from polling)", events.Transport)
	}
	select {
	case n := <-notes:
		if n != "from the browser" {
			t.Errorf("note: %q", n)
		}
	case <-ctx.Done():
		t.Error("the page's notification did not arrive")
	}

	for _, c := range []struct{ label, transport string }{{"jsonrpc", "websocket"}, {"cbor", "polling"}} {
		var sum struct {
			Add, Named, Unknown, Callback, Echo, Whoami outcome
			Bye, Transport                              string
		}
		pageJSON(t, v.Texts["#"+c.label], &sum)
		sum.Add.is(t, c.label+": add", "3")
		sum.Named.is(t, c.label+": greet", `"hello, browser"`)
		sum.Unknown.fails(t, c.label+": unknown method", rpc.CodeMethodNotFound)
		sum.Callback.is(t, c.label+": callback", "42")
		var echo string
		if err := json.Unmarshal(sum.Echo.Result, &echo); err != nil || echo != browserText {
			t.Errorf("%s: echo: %s (%v), want %q", c.label, sum.Echo.Result, err, browserText)
		}
		sum.Whoami.is(t, c.label+": whoami", `"anonymous"`)
		if sum.Bye != "done" || sum.Transport != c.transport {
			t.Errorf("%s: bye %q, transport %q (want %s)", c.label, sum.Bye, sum.Transport, c.transport)
		}
	}

	// What the server's calls to the page got.
	for range 3 {
		var r serverSide
		select {
		case r = <-got:
		case <-ctx.Done():
			t.Fatal("the server's calls to the page did not finish")
		}
		if len(r.errs) > 0 || r.mul != 42 {
			t.Errorf("%s: mul %d, errors %v", r.label, r.mul, r.errs)
		}
		switch r.label {
		case "events":
			if r.localTime["zone"] != "UTC" || !strings.Contains(r.localTime["agent"], "HeadlessChrome/") {
				t.Errorf("events: localTime answered %v", r.localTime)
			}
			var e *rpc.Error
			if !errors.As(r.refuseErr, &e) || e.Code != 4001 || e.Message != "not today" || !rpc.IsRemote(r.refuseErr) {
				t.Errorf("events: refuse: %v", r.refuseErr)
			}
		case "jsonrpc", "cbor":
			wantCodec := map[string]string{"jsonrpc": "json", "cbor": "cbor"}[r.label]
			if r.codec != wantCodec || r.echo != browserText {
				t.Errorf("%s: codec %s, echo %q", r.label, r.codec, r.echo)
			}
		default:
			t.Errorf("a socket labelled %q", r.label)
		}
	}
}

// browserServerOpts are the tests' socket.io options with the engine's
// default pings (25 s, 20 s): a browser on a loaded machine can miss the
// tests' short ones.
func browserServerOpts() *socket.ServerOptions {
	o := serverOpts()
	o.SetPingInterval(25 * time.Second)
	o.SetPingTimeout(20 * time.Second)
	return o
}

// pageJSON decodes what the page wrote into one of its elements.
func pageJSON(t *testing.T, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Errorf("the page shows %q: %v", text, err)
	}
}

// commonJSBundle makes one browser script of the CommonJS files of an
// npm package's folder (json-rpc-2.0 ships no browser build): each file
// becomes a module function, require resolves the folder's "./name"
// paths, and the exports of main are set as window[global]. No bundler
// needed: the package's files only require each other.
func commonJSBundle(dir, main, global string) ([]byte, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.js"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .js files in %s", dir)
	}
	sort.Strings(files)
	var b bytes.Buffer
	b.WriteString("(function () {\nvar defs = {}, cache = {};\n")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		name := "./" + strings.TrimSuffix(filepath.Base(f), ".js")
		fmt.Fprintf(&b, "defs[%q] = function (module, exports, require) {\n%s\n};\n", name, src)
	}
	fmt.Fprintf(&b, `function require(name) {
  name = name.replace(/\.js$/, "");
  if (cache[name]) return cache[name].exports;
  if (!defs[name]) throw new Error("bundle: no module " + name);
  var module = cache[name] = { exports: {} };
  defs[name](module, module.exports, require);
  return module.exports;
}
window[%q] = require(%q);
})();
`, global, main)
	return b.Bytes(), nil
}
