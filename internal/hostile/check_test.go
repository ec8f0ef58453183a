package hostile

import (
	"strings"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// TestCheckRejects: the checker is not vacuous: a wrong id, code, result,
// kind or batch is reported.
func TestCheckRejects(t *testing.T) {
	var c json.Codec
	for _, tc := range []struct {
		name   string
		answer string
		want   Want
		ok     bool
	}{
		{"matching error", `{"jsonrpc":"2.0","error":{"code":-32600,"message":"x"},"id":null}`, invalid(null), true},
		{"wrong code", `{"jsonrpc":"2.0","error":{"code":-32700,"message":"x"},"id":null}`, invalid(null), false},
		{"wrong id", `{"jsonrpc":"2.0","error":{"code":-32600,"message":"x"},"id":1}`, invalid(null), false},
		{"any id", `{"jsonrpc":"2.0","error":{"code":-32600,"message":"x"},"id":1}`, Want{Kind: Answer, Code: -32600, AnyID: true}, true},
		{"result for an error", `{"jsonrpc":"2.0","result":3,"id":1}`, errorOf(rpc.CodeInvalidParams, codec.Int(1)), false},
		{"error for a result", `{"jsonrpc":"2.0","error":{"code":-32602,"message":"x"},"id":1}`, resultOf(codec.Int(1), 3), false},
		{"matching result", `{"jsonrpc":"2.0","result":3,"id":1}`, resultOf(codec.Int(1), 3), true},
		{"wrong result", `{"jsonrpc":"2.0","result":4,"id":1}`, resultOf(codec.Int(1), 3), false},
		{"null result", `{"jsonrpc":"2.0","result":null,"id":1}`, Want{Kind: Answer, ID: codec.Int(1), NullResult: true}, true},
		{"not null", `{"jsonrpc":"2.0","result":0,"id":1}`, Want{Kind: Answer, ID: codec.Int(1), NullResult: true}, false},
		{"a batch for one", `[{"jsonrpc":"2.0","result":3,"id":1}]`, resultOf(codec.Int(1), 3), false},
		{"one for a batch", `{"jsonrpc":"2.0","result":3,"id":1}`, batchOf(resultOf(codec.Int(1), 3)), false},
		{"a request for an answer", `{"jsonrpc":"2.0","method":"x","id":1}`, resultOf(codec.Int(1), 3), false},
		{"batch in any order", `[{"jsonrpc":"2.0","result":3,"id":2},{"jsonrpc":"2.0","result":3,"id":1}]`,
			batchOf(resultOf(codec.Int(1), 3), resultOf(codec.Int(2), 3)), true},
		{"batch short of one", `[{"jsonrpc":"2.0","result":3,"id":1}]`,
			batchOf(resultOf(codec.Int(1), 3), resultOf(codec.Int(2), 3)), false},
		{"batch with an id twice for two", `[{"jsonrpc":"2.0","result":3,"id":1},{"jsonrpc":"2.0","result":3,"id":1}]`,
			batchOf(resultOf(codec.Int(1), 3), resultOf(codec.Int(2), 3)), false},
		{"not JSON", `{"jsonrpc"`, resultOf(codec.Int(1), 3), false},
	} {
		err := check(c, []byte(tc.answer), tc.want)
		if (err == nil) != tc.ok {
			t.Errorf("%s: check = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestCorpusSizes: the oversize case is exactly one byte over the limit,
// every other message fits in it, and names are unique.
func TestCorpusSizes(t *testing.T) {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		names := map[string]bool{}
		for _, cs := range Corpus(c) {
			if names[cs.Name] {
				t.Errorf("%s: two cases named %q", c.Name(), cs.Name)
			}
			names[cs.Name] = true
			n := len(cs.Build())
			if cs.Want.Kind == Oversize {
				if n != MaxMessageSize+1 {
					t.Errorf("%s: %q is %d bytes, want %d", c.Name(), cs.Name, n, MaxMessageSize+1)
				}
			} else if n > MaxMessageSize {
				t.Errorf("%s: %q is %d bytes, over the limit", c.Name(), cs.Name, n)
			}
		}
	}
}

// TestCancelRequests: the flood's hand-made cancellations decode as
// $/cancelRequest notifications whose id is of the intended kind.
func TestCancelRequests(t *testing.T) {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		for i := range 4 {
			msg, err := cancelRequest(c, i)
			if err != nil {
				t.Fatal(err)
			}
			ms, batch, err := c.Decode(nil, msg)
			if err != nil || batch || len(ms) != 1 || ms[0].Invalid != "" || !ms[0].IsNotification() ||
				ms[0].Method != "$/cancelRequest" {
				t.Fatalf("%s %d: %q decodes to %+v, %v", c.Name(), i, msg, ms, err)
			}
			var p map[string]any
			if err := c.Unmarshal(ms[0].Params, &p); err != nil || p["id"] == nil {
				t.Fatalf("%s %d: params %v, %v", c.Name(), i, p, err)
			}
			if i == 1 && !strings.HasPrefix(p["id"].(string), "ghost-") {
				t.Errorf("%s: string id %v", c.Name(), p["id"])
			}
		}
	}
}
