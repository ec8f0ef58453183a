package hub_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// event is a hub.event notification as a client receives it.
type event struct {
	Topic string  `json:"topic"`
	Data  rpc.Raw `json:"data"`
}

// client is one client connected to a hub over a pipe.
type client struct {
	peer   *rpc.Peer // the client's end
	server *rpc.Peer // the server's end, the one the hub knows
	events chan event
}

// newHub makes a hub with opts and a router with it mounted.
func newHub(t testing.TB, opts *hub.Options) (*hub.Hub, *rpc.Router) {
	t.Helper()
	h, err := hub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	r := rpc.NewRouter()
	if err := h.Mount(r); err != nil {
		t.Fatal(err)
	}
	return h, r
}

// connect joins a new client to the server's router. The client's router
// (nil for a new one) gets a hub.event handler; c is its codec (nil:
// JSON); serverOpts go to the server's end.
func connect(t testing.TB, server *rpc.Router, own *rpc.Router, c codec.Codec, serverOpts ...rpc.Option) *client {
	t.Helper()
	if own == nil {
		own = rpc.NewRouter()
	}
	cl := &client{events: make(chan event, 10000)}
	own.Register(hub.EventMethod, rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		var ev event
		if err := req.DecodeParams(&ev); err != nil {
			return nil, err
		}
		if ev.Data.Codec() == nil {
			ev.Data = rpc.NewRaw(req.Peer().Codec(), ev.Data.Bytes())
		}
		cl.events <- ev
		return nil, nil
	}))
	var copts []rpc.Option
	if c != nil {
		copts = append(copts, rpc.WithCodec(c))
		serverOpts = append(serverOpts, rpc.WithCodec(c))
	}
	a, b := rpc.Pipe()
	sp, err := rpc.NewPeer(a, append([]rpc.Option{rpc.WithHandler(server)}, serverOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := rpc.NewPeer(b, append([]rpc.Option{rpc.WithHandler(own)}, copts...)...)
	if err != nil {
		t.Fatal(err)
	}
	cl.peer, cl.server = cp, sp
	t.Cleanup(func() { cp.Close(); sp.Close() })
	return cl
}

// call calls a hub method from the client.
func (c *client) call(t testing.TB, method string, params, result any) error {
	t.Helper()
	return c.peer.Call(testCtx(t), method, params, result)
}

// must calls a hub method and fails the test on error.
func (c *client) must(t testing.TB, method string, params any) {
	t.Helper()
	if err := c.call(t, method, params, nil); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

// next returns the client's next event, failing after a while.
func (c *client) next(t testing.TB) event {
	t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return event{}
	}
}

// none checks that no event arrives for a little while.
func (c *client) none(t testing.TB) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %s %s", ev.Topic, ev.Data.Bytes())
	case <-time.After(50 * time.Millisecond):
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds, for state that changes with no
// event to wait on (a peer's leaving is noticed asynchronously).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func sub(topic string) map[string]any { return map[string]any{"topic": topic} }

func pub(topic string, data any) map[string]any {
	return map[string]any{"topic": topic, "data": data}
}
