package rpc_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"testing"

	"github.com/parleyrpc/parley/rpc"
)

// specRouter serves the methods the JSON-RPC 2.0 specification's examples
// use: subtract (positional and named), update, foobar, sum, notify_hello,
// get_data.
func specRouter(t testing.TB) *rpc.Router {
	subtract := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		var pos []int
		if err := req.DecodeParams(&pos); err == nil {
			if len(pos) != 2 {
				return nil, rpc.Errorf(rpc.CodeInvalidParams, "want 2 params")
			}
			return pos[0] - pos[1], nil
		}
		var named struct{ Minuend, Subtrahend int }
		if err := req.DecodeParams(&named); err != nil {
			return nil, err
		}
		return named.Minuend - named.Subtrahend, nil
	})
	nothing := rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return nil, nil })
	return router(t,
		"subtract", subtract,
		"update", nothing,
		"foobar", nothing,
		"notify_hello", nothing,
		"notify_sum", nothing,
		"sum", rpc.Func(add),
		"get_data", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			return []any{"hello", 5}, nil
		}),
	)
}

// TestSpecExamples replays every example of the JSON-RPC 2.0
// specification, section 7, and compares the answers byte for byte (batch
// answers, which may come in any order, item by item).
func TestSpecExamples(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string // nil: no answer; more than one: a batch, any order
	}{
		{"positional", `{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`,
			[]string{`{"jsonrpc": "2.0", "result": 19, "id": 1}`}},
		{"positional reversed", `{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}`,
			[]string{`{"jsonrpc": "2.0", "result": -19, "id": 2}`}},
		{"named", `{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`,
			[]string{`{"jsonrpc": "2.0", "result": 19, "id": 3}`}},
		{"named reversed", `{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}`,
			[]string{`{"jsonrpc": "2.0", "result": 19, "id": 4}`}},
		{"notification", `{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`, nil},
		{"notification without params", `{"jsonrpc": "2.0", "method": "foobar"}`, nil},
		{"unknown method", `{"jsonrpc": "2.0", "method": "foobar2", "id": "1"}`,
			[]string{`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "method not found: foobar2"}, "id": "1"}`}},
		{"invalid JSON", `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
			[]string{`{"jsonrpc": "2.0", "error": {"code": -32700, "message": "codec: parse error: invalid JSON"}, "id": null}`}},
		{"invalid request object", `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
			[]string{`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: method must be a non-empty string"}, "id": null}`}},
		{"batch, invalid JSON", `[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`, []string{`{"jsonrpc": "2.0", "error": {"code": -32700, "message": "codec: parse error: invalid JSON"}, "id": null}`}},
		{"empty array", `[]`,
			[]string{`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "empty batch"}, "id": null}`}},
		{"invalid batch", `[1]`,
			[]string{`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: message must be an object"}, "id": null}`, "batch"}},
		{"invalid batch of three", `[1,2,3]`, []string{
			`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: message must be an object"}, "id": null}`,
			`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: message must be an object"}, "id": null}`,
			`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: message must be an object"}, "id": null}`,
		}},
		{"batch", `[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`, []string{
			`{"jsonrpc": "2.0", "result": 7, "id": "1"}`,
			`{"jsonrpc": "2.0", "result": 19, "id": "2"}`,
			`{"jsonrpc": "2.0", "error": {"code": -32600, "message": "invalid request: jsonrpc must be \"2.0\""}, "id": null}`,
			`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "method not found: foo.get"}, "id": "5"}`,
			`{"jsonrpc": "2.0", "result": ["hello",5], "id": "9"}`,
		}},
		{"batch of notifications", `[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, raw := newRaw(t, rpc.WithHandler(specRouter(t)))
			raw.send(t, c.in)
			if c.want == nil {
				raw.none(t)
				return
			}
			got := raw.next(t)
			isBatch := len(got) > 0 && got[0] == '['
			if !isBatch {
				if len(c.want) != 1 || got != c.want[0] { // a batch of one is marked "batch"
					t.Fatalf("got  %s\nwant %s", got, c.want)
				}
				return
			}
			var items []json.RawMessage
			if err := json.Unmarshal([]byte(got), &items); err != nil {
				t.Fatalf("batch answer %s: %v", got, err)
			}
			var gotItems []string
			for _, it := range items {
				gotItems = append(gotItems, string(it))
			}
			sort.Strings(gotItems)
			want := append([]string(nil), c.want...)
			if want[len(want)-1] == "batch" { // a batch of one
				want = want[:len(want)-1]
			}
			sort.Strings(want)
			if !reflect.DeepEqual(gotItems, want) {
				t.Fatalf("got  %q\nwant %q", gotItems, want)
			}
		})
	}
}
