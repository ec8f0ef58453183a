package hostile_test

import (
	"context"
	stdjson "encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// TestCBORXOverWebSocket: npm cbor-x, a CBOR implementation Parley did not
// write, calls sum over the WebSocket adapter with subprotocol
// jsonrpc2.cbor with arrays of 60,000 to 100,001 small integers, and a
// JSON client makes the same calls. Both get the same answers: a sum up
// to codec.MaxItems elements (70,000 was once refused over CBOR alone, as
// a parse error with id null), and -32602 with the call's id beyond.
func TestCBORXOverWebSocket(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/cborx")
	r := rpc.NewRouter()
	if err := r.Register("sum", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	})); err != nil {
		t.Fatal(err)
	}
	srv, err := websocket.NewServer(&websocket.ServerOptions{Handler: r})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() { _ = srv.Close() }()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := nodetest.Run(ctx, t, dir, "sum.js", "ws"+strings.TrimPrefix(hs.URL, "http"))

	type line struct {
		Codec   string `json:"codec"`
		N       int    `json:"n"`
		Want    int    `json:"want"`
		ID      int    `json:"id"`
		Result  *int   `json:"result"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	seen := map[string]int{}
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		var l line
		if err := stdjson.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("node printed %q: %v", s, err)
		}
		seen[l.Codec]++
		t.Logf("%s, %d elements: id %d, result %v, error %d %s", l.Codec, l.N, l.ID, deref(l.Result), l.Code, l.Message)
		if l.ID != seen[l.Codec] {
			t.Errorf("%s, %d elements: answered with id %d, want %d", l.Codec, l.N, l.ID, seen[l.Codec])
		}
		switch {
		case l.N <= codec.MaxItems:
			if l.Result == nil || *l.Result != l.Want {
				t.Errorf("%s, %d elements: result %v, error %d %q; want the sum %d", l.Codec, l.N, deref(l.Result), l.Code, l.Message, l.Want)
			}
		case l.Code != int(rpc.CodeInvalidParams) || !strings.Contains(l.Message, "more than 100000 elements"):
			t.Errorf("%s, %d elements: error %d %q, want -32602 for more than %d elements", l.Codec, l.N, l.Code, l.Message, codec.MaxItems)
		}
	}
	if seen["cbor"] != 4 || seen["json"] != 4 {
		t.Fatalf("answers per codec: %v, want 4 each", seen)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
