package stream_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// lspWant is what lsp_client.js must see: sums and products computed by
// the Go server (and by itself, called back), -32601 for an unknown
// method, -32800 for the call it cancelled (the Go handler's context
// ended), and the end of the link.
var lspWant = map[string]any{
	"add":        42.0,
	"callMeBack": map[string]any{"who": "vscode-jsonrpc", "product": 42.0},
	"many":       2450.0, // sum of 2i for i < 50
	"unknown":    -32601.0,
	"cancel":     -32800.0,
	// count's partial results, then its answer.
	"progress":       []any{1.0, 2.0, 3.0, 4.0, 5.0},
	"progressResult": 5.0,
}

// TestVSCodeJSONRPC runs vscode-jsonrpc, the LSP's own library, against a
// Parley server over TCP, a Unix socket, and stdio (node starts this test
// binary as its server): calls both ways, concurrent calls, an unknown
// method, cancellation reaching the Go handler, and partial results
// ($/progress) received with vscode-jsonrpc's onProgress.
func TestVSCodeJSONRPC(t *testing.T) {
	dir := nodetest.Setup(t, "testdata")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"tcp", "unix", "stdio"} {
		t.Run(mode, func(t *testing.T) {
			target := exe
			if mode != "stdio" {
				_, addr := serve(t, mode, &stream.ServerOptions{Handler: newRouter()})
				target = addr.String()
			}
			out := runNode(t, dir, "lsp_client.js", mode, target)
			checkOut(t, out, lspWant)
			wantEnd := any("closed")
			if mode == "stdio" {
				wantEnd = 0.0 // the child's exit code: it ended when its input did
			}
			if out["end"] != wantEnd {
				t.Errorf("end: got %v, want %v", out["end"], wantEnd)
			}
		})
	}
}

// TestMCPLines runs the Model Context Protocol SDK's newline-delimited
// framing (its stdio client transport, and its ReadBuffer over sockets),
// which checks every message against its JSON-RPC schema, against a
// Parley server with line framing.
func TestMCPLines(t *testing.T) {
	dir := nodetest.Setup(t, "testdata")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"tcp", "unix", "stdio"} {
		t.Run(mode, func(t *testing.T) {
			target := exe
			if mode != "stdio" {
				_, addr := serve(t, mode, &stream.ServerOptions{Framing: stream.Lines, Handler: newRouter()})
				target = addr.String()
			}
			out := runNode(t, dir, "mcp_client.js", mode, target)
			checkOut(t, out, map[string]any{
				"callMeBack": map[string]any{"who": "mcp-sdk", "product": 42.0},
				"many":       2450.0,
				"unknown":    -32601.0,
				"cancel":     -32800.0,
				"errors":     []any{},
				"end":        "closed",
			})
		})
	}
}

// TestChildVSCodeJSONRPC starts a vscode-jsonrpc server under node as a
// child process (stream.Start) and talks to it over its stdio: calls both
// ways, partial results sent with vscode-jsonrpc's sendProgress, and a
// cancelled call whose cancellation the node handler sees.
func TestChildVSCodeJSONRPC(t *testing.T) {
	dir := nodetest.Setup(t, "testdata")
	sawCancel := make(chan struct{}, 1)
	router := rpc.NewRouter()
	must(router.Register("whoami", rpc.Func(func(context.Context, any) (string, error) { return "parley", nil })))
	must(router.Register("sawCancel", rpc.Func(func(context.Context, any) (any, error) {
		sawCancel <- struct{}{}
		return nil, nil
	})))
	cmd := exec.Command("node", "lsp_server.js")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	child, err := stream.Start(cmd, &stream.Options{Handler: router})
	if err != nil {
		t.Fatal(err)
	}
	defer child.Close()
	ctx := testContext(t)
	p := child.Peer()
	if sum, err := rpc.Call[int](ctx, p, "add", []int{40, 2}); err != nil || sum != 42 {
		t.Fatalf("add: %v, %v", sum, err)
	}
	if who, err := rpc.Call[string](ctx, p, "askBack", nil); err != nil || who != "you are parley" {
		t.Fatalf("askBack: %q, %v", who, err)
	}
	var partial []int
	var res string
	err = rpc.CallWithProgress(ctx, p, "countdown", countParams{N: 3}, &res, func(v rpc.Raw) {
		var n int
		if err := v.Decode(&n); err != nil {
			t.Errorf("partial result %v: %v", v, err)
		}
		partial = append(partial, n)
	})
	if err != nil || res != "liftoff" || !reflect.DeepEqual(partial, []int{3, 2, 1}) {
		t.Fatalf("countdown: %q, partial results %v, %v", res, partial, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := rpc.Call[any](callCtx, p, "slow", nil); err == nil {
		t.Fatal("slow answered")
	}
	select {
	case <-sawCancel:
	case <-ctx.Done():
		t.Fatal("the node handler never saw the cancellation")
	}
	if err := child.Close(); err != nil {
		t.Fatalf("the child exited with %v, want a clean exit once its input ended", err)
	}
	if p.Err() == nil {
		t.Fatal("the peer is still running after Close")
	}
}

// runNode runs a script and decodes the JSON object it prints.
func runNode(t *testing.T, dir, script string, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raw := nodetest.Run(ctx, t, dir, script, args...)
	var out map[string]any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("%s printed %q: %v", script, raw, err)
	}
	return out
}

// checkOut compares the keys of want with out.
func checkOut(t *testing.T, out, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if !reflect.DeepEqual(out[k], w) {
			t.Errorf("%s: got %#v, want %#v", k, out[k], w)
		}
	}
}
