package sockjs_test

import (
	"context"
	"testing"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// A Go client made with adapters/websocket (JSON: no subprotocol offered)
// works against the raw websocket endpoint, both ways.
func TestWebsocketAdapterClient(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	r := rpc.NewRouter()
	r.Register("whoami", rpc.Func(func(context.Context, any) (string, error) { return "gorilla", nil }))
	r.Register("mul", rpc.Func(func(_ context.Context, p mulParams) (int, error) { return p.A * p.B, nil }))
	p, err := websocket.Dial(ctx, e.wsURL("/rpc"), &websocket.DialOptions{Handler: r})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if sum, err := rpc.Call[int](ctx, p, "add", []int{2, 3}); err != nil || sum != 5 {
		t.Errorf("add: %v, %v", sum, err)
	}
	cb, err := rpc.Call[callbackResult](ctx, p, "callMeBack", mulParams{A: 6, B: 7})
	if err != nil || cb.Who != "gorilla" || cb.Product != 42 {
		t.Errorf("callMeBack: %+v, %v", cb, err)
	}
}
