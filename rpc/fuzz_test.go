package rpc_test

import (
	"context"
	"testing"

	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// FuzzInbound feeds arbitrary bytes to a peer's inbound path and checks
// that the peer neither panics nor hangs, and keeps serving afterwards.
func FuzzInbound(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`,
		`{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}`,
		`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`,
		`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		`{"jsonrpc": "2.0", "method": 1, "params": "bar"}`,
		`[]`, `[1,2,3]`,
		`[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"foo": "boo"}]`,
		`{"jsonrpc": "2.0", "result": 19, "id": 1}`,
		`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "x"}, "id": "1"}`,
		`{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 1}}`,
		`{"jsonrpc": "2.0", "method": "subtract", "params": [1, 2], "id": 1, "id": 2}`,
		`{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42, "partialResultToken": "t"}, "id": 4}`,
		`{"jsonrpc": "2.0", "method": "subtract", "params": {"partialResultToken": [1]}, "id": 5}`,
		`{"jsonrpc": "2.0", "method": "$/progress", "params": {"token": 1, "value": [1,2]}}`,
		`{"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "x"}}`,
		`{"jsonrpc": "2.0", "method": "$/progress", "params": [1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		p, raw := newRaw(t, rpc.WithHandler(specRouter(t)), rpc.WithLogger(discard), rpc.WithCodec(json.Codec{}))
		raw.send(t, string(msg))
		// Whatever that did, a valid call must still be answered.
		raw.send(t, `{"jsonrpc": "2.0", "method": "subtract", "params": [5, 3], "id": "probe"}`)
		for {
			if got := raw.next(t); got == `{"jsonrpc": "2.0", "result": 2, "id": "probe"}` {
				break
			}
		}
		_ = p.Notify(context.Background(), "x", nil)
	})
}
