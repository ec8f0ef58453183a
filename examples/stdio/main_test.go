package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/openrpc"
)

// childEnv makes the test binary run the tool itself (main), so that the
// tests can start it as a child process, as an editor would.
const childEnv = "WORDTOOL_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		main()
		return
	}
	leakcheck.Main(m)
}

const text = "the quick brown fox\njumps over\nthe lazy dog"

// editor is the client's side in Go: it answers editor/userName.
func editor() *rpc.Router {
	r := rpc.NewRouter()
	if err := r.Register("editor/userName", rpc.Func(func(context.Context, any) (string, error) { return "Grace", nil })); err != nil {
		panic(err)
	}
	return r
}

// exercise makes the tool's three calls from a Go client and checks them.
func exercise(t *testing.T, p *rpc.Peer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if g, err := rpc.Call[string](ctx, p, "greet", struct{}{}); err != nil || g != "Hello, Grace!" {
		t.Fatalf("greet: %q, %v", g, err)
	}
	var partial []LineCount
	var res CountResult
	err := rpc.CallWithProgress(ctx, p, "count", CountParams{Text: text}, &res, func(v rpc.Raw) {
		var lc LineCount
		if err := v.Decode(&lc); err != nil {
			t.Error(err)
		}
		partial = append(partial, lc)
	})
	if err != nil || res != (CountResult{Lines: 3, Words: 9}) {
		t.Fatalf("count: %+v, %v", res, err)
	}
	if want := []LineCount{{1, 4}, {2, 2}, {3, 3}}; !reflect.DeepEqual(partial, want) {
		t.Fatalf("partial results %v, want %v", partial, want)
	}
	var doc openrpc.Document
	if err := p.Call(ctx, rpc.DiscoverMethod, nil, &doc); err != nil || len(doc.Methods) != 2 {
		t.Fatalf("rpc.discover: %+v, %v", doc, err)
	}
}

// TestInProcess serves the tool over one end of a pipe and calls it from
// the other.
func TestInProcess(t *testing.T) {
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- serve(a, stream.Header, t.Output()) }()
	p, err := stream.NewPeer(b, &stream.Options{Handler: editor()})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, p)
	p.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}

// TestChildLines starts the tool as a child process with -lines and
// drives it from Go (stream.Start).
func TestChildLines(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-lines")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = t.Output()
	child, err := stream.Start(cmd, &stream.Options{Framing: stream.Lines, Handler: editor()})
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, child.Peer())
	if err := child.Close(); err != nil {
		t.Fatalf("the tool exited with %v", err)
	}
}

// TestVSCodeClient is the story: an editor's library, vscode-jsonrpc under
// node, starts the tool and uses it.
func TestVSCodeClient(t *testing.T) {
	dir := nodetest.Setup(t, ".")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1") // node passes it on to the tool it starts
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	raw := nodetest.Run(ctx, t, dir, "testdata/client.js", exe)
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("client.js printed %q: %v", raw, err)
	}
	want := map[string]any{
		"greeting": "Hello, Ada!",
		"count":    map[string]any{"lines": 3.0, "words": 9.0},
		"partial": []any{
			map[string]any{"line": 1.0, "words": 4.0},
			map[string]any{"line": 2.0, "words": 2.0},
			map[string]any{"line": 3.0, "words": 3.0},
		},
		"methods":     []any{"count", "greet"},
		"countParams": []any{"text"},
		"exit":        0.0,
	}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("got  %v\nwant %v", out, want)
	}
}
