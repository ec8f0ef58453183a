package websocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// interopServer serves what the node scripts call, and records what the
// node side answered to the server's own calls.
type interopServer struct {
	mu      sync.Mutex
	notes   []string
	greeted chan string // what the client's "greet" answered to OnConnect's call
	doubled chan int    // what the client's "double" answered to askClient
}

func newInteropServer(t *testing.T) (*interopServer, *testServer) {
	s := &interopServer{greeted: make(chan string, 8), doubled: make(chan int, 8)}
	r := rpc.NewRouter()
	reg := func(name string, h rpc.Handler) { mustRegister(t, r, name, h) }

	reg("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	}))
	reg("concat", rpc.Func(func(_ context.Context, p struct{ A, B string }) (string, error) { return p.A + p.B, nil }))
	reg("askClient", rpc.Func(func(ctx context.Context, p struct{ N int }) (int, error) {
		n, err := rpc.Call[int](ctx, rpc.PeerFromContext(ctx), "double", map[string]int{"n": p.N})
		if err == nil {
			s.doubled <- n
		}
		return n, err
	}))
	reg("fail", rpc.Func(func(context.Context, []int) (any, error) { return nil, errors.New("deliberate failure") }))
	reg("note", rpc.Func(func(_ context.Context, p struct{ Text string }) (any, error) {
		s.mu.Lock()
		s.notes = append(s.notes, p.Text)
		s.mu.Unlock()
		return nil, nil
	}))
	reg("greeted", rpc.Func(func(ctx context.Context, _ []int) (string, error) {
		select {
		case g := <-s.greeted:
			return g, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))

	// The specification's examples.
	reg("subtract", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
		var pos []int
		if req.DecodeParams(&pos) == nil && len(pos) == 2 {
			return pos[0] - pos[1], nil
		}
		var named struct{ Minuend, Subtrahend int }
		if err := req.DecodeParams(&named); err != nil {
			return nil, err
		}
		return named.Minuend - named.Subtrahend, nil
	}))
	reg("sum", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	}))
	reg("get_data", rpc.Func(func(context.Context, struct{}) ([]any, error) { return []any{"hello", 5}, nil }))
	for _, n := range []string{"update", "notify_hello", "notify_sum"} {
		reg(n, rpc.Func(func(context.Context, []int) (any, error) { return nil, nil }))
	}

	ts := startServer(t, &websocket.ServerOptions{
		Handler: r,
		OnConnect: func(p *rpc.Peer, _ *http.Request) {
			// Call the node side from outside any handler. Connections
			// that do not serve "greet" (the raw batch script) answer
			// with an error, which is not recorded.
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if g, err := rpc.Call[string](ctx, p, "greet", []string{"go"}); err == nil {
					s.greeted <- g
				}
			}()
		},
	})
	return s, ts
}

// TestNodeInterop: npm ws + json-rpc-2.0's JSONRPCServerAndClient, code we
// did not write, calls the Go server, gets answers and standard errors,
// and answers the server's calls.
func TestNodeInterop(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/node")
	s, ts := newInteropServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := nodetest.Run(ctx, t, dir, "client.js", ts.url)

	got := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("node printed %q: %v", line, err)
		}
		got[fmt.Sprint(m["check"])] = m
	}
	want := map[string]map[string]any{
		"refused":       {"status": 400.0},
		"protocol":      {"protocol": "jsonrpc2.json"},
		"add":           {"result": 5.0},
		"concat":        {"result": "foobar"},
		"callback":      {"result": 42.0},
		"notfound":      {"code": -32601.0},
		"invalidparams": {"code": -32602.0},
		"servererror":   {"code": -32000.0, "message": "deliberate failure"},
		"greeted":       {"result": "hello go"},
		"done":          {},
	}
	for check, fields := range want {
		m, ok := got[check]
		if !ok {
			t.Errorf("check %s missing from node's output:\n%s", check, out)
			continue
		}
		for k, v := range fields {
			if !reflect.DeepEqual(m[k], v) {
				t.Errorf("check %s: %s = %#v, want %#v", check, k, m[k], v)
			}
		}
	}
	if body := fmt.Sprint(got["refused"]["body"]); !strings.Contains(body, "jsonrpc2.json") || !strings.Contains(body, "bogus.proto") {
		t.Errorf("refusal body %q does not name the offered and supported subprotocols", body)
	}
	// What the Go side saw of the node side's messages.
	waitFor(t, "node's notification", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.notes) == 1 && s.notes[0] == "hi from node"
	})
	select {
	case n := <-s.doubled:
		if n != 42 {
			t.Errorf("node's double(21) answered %d", n)
		}
	default:
		t.Error("the server's call back to node did not complete")
	}
}

// TestNodeBatch: the JSON-RPC 2.0 specification's examples, sent raw from
// node over npm ws, get the specification's answers.
func TestNodeBatch(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/node")
	_, ts := newInteropServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := nodetest.Run(ctx, t, dir, "batch.js", ts.url)

	got := map[string][]any{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m struct {
			Case      string
			Responses []any
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("node printed %q: %v", line, err)
		}
		got[m.Case] = m.Responses
	}
	// answer renders one response as "id=result" or "id=!code".
	answer := func(v any) string {
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprintf("not an object: %v", v)
		}
		if m["jsonrpc"] != "2.0" {
			return fmt.Sprintf("no jsonrpc member: %v", m)
		}
		id, _ := json.Marshal(m["id"])
		if e, ok := m["error"].(map[string]any); ok {
			return fmt.Sprintf("%s=!%v", id, e["code"])
		}
		res, _ := json.Marshal(m["result"])
		return fmt.Sprintf("%s=%s", id, res)
	}
	// render turns a case's responses into comparable text: a single
	// response as is, a batch answer as "[...]" sorted (order is free).
	render := func(rs []any) []string {
		var s []string
		for _, r := range rs {
			if arr, ok := r.([]any); ok {
				items := make([]string, len(arr))
				for i, v := range arr {
					items[i] = answer(v)
				}
				sort.Strings(items)
				s = append(s, "["+strings.Join(items, " ")+"]")
			} else {
				s = append(s, answer(r))
			}
		}
		return s
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"positional", []string{"1=19"}},
		{"named", []string{"3=19"}},
		{"notification", nil},
		{"notfound", []string{`"1"=!-32601`}},
		{"invalidjson", []string{"null=!-32700"}},
		{"invalidrequest", []string{"null=!-32600"}},
		{"batchinvalidjson", []string{"null=!-32700"}},
		{"emptybatch", []string{"null=!-32600"}},
		{"batchofone", []string{"[null=!-32600]"}},
		{"batchofthree", []string{"[null=!-32600 null=!-32600 null=!-32600]"}},
		{"mixedbatch", []string{`["1"=7 "2"=19 "5"=!-32601 "9"=["hello",5] null=!-32600]`}},
		{"allnotifications", nil},
	} {
		rs, ok := got[tc.name]
		if !ok {
			t.Errorf("case %s missing from node's output:\n%s", tc.name, out)
			continue
		}
		if r := render(rs); !reflect.DeepEqual(r, tc.want) {
			t.Errorf("case %s: got %q, want %q", tc.name, r, tc.want)
		}
	}
}
