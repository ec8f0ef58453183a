package hub_test

import (
	"context"
	"fmt"

	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// dial joins a client with its own methods to the server over a pipe.
func dial(server, own *rpc.Router) (*rpc.Peer, func()) {
	a, b := rpc.Pipe()
	sp, _ := rpc.NewPeer(a, rpc.WithHandler(server))
	cp, _ := rpc.NewPeer(b, rpc.WithHandler(own))
	return cp, func() { cp.Close(); sp.Close() }
}

// A client subscribes to a topic and another publishes to it; a client
// registers a procedure and another calls it through the hub.
func Example() {
	h, _ := hub.New(nil)
	defer h.Close()
	server := rpc.NewRouter()
	h.Mount(server)

	got := make(chan string)
	listener := rpc.NewRouter()
	listener.Register(hub.EventMethod, rpc.Func(func(_ context.Context, ev struct{ Topic, Data string }) (any, error) {
		got <- ev.Topic + ": " + ev.Data
		return nil, nil
	}))
	listener.Register("device.temperature", rpc.Func(func(context.Context, any) (float64, error) {
		return 21.5, nil
	}))
	device, hangUp := dial(server, listener)
	defer hangUp()
	browser, hangUp2 := dial(server, rpc.NewRouter())
	defer hangUp2()
	ctx := context.Background()

	device.Call(ctx, "hub.subscribe", map[string]string{"topic": "chat.*"}, nil)
	browser.Call(ctx, "hub.publish", map[string]string{"topic": "chat.lobby", "data": "hello"}, nil)
	fmt.Println(<-got)

	device.Call(ctx, "hub.register", map[string]string{"procedure": "device.temperature"}, nil)
	var celsius float64
	err := browser.Call(ctx, "hub.call", map[string]any{"procedure": "device.temperature"}, &celsius)
	fmt.Println(celsius, err)
	// Output:
	// chat.lobby: hello
	// 21.5 <nil>
}
