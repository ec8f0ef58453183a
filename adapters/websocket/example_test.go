package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/rpc"
)

// A server and a client that call each other: the client calls "greet",
// whose handler calls back the client's "name".
func ExampleDial() {
	router := rpc.NewRouter()
	_ = router.Register("greet", rpc.Func(func(ctx context.Context, p []string) (string, error) {
		caller := rpc.PeerFromContext(ctx)
		name, err := rpc.Call[string](ctx, caller, "name", nil)
		if err != nil {
			return "", err
		}
		return p[0] + ", " + name + "!", nil
	}))
	connected := make(chan string, 1)
	srv, err := websocket.NewServer(&websocket.ServerOptions{
		Handler: router,
		OnConnect: func(p *rpc.Peer, r *http.Request) {
			connected <- "server: new client speaking " + p.Codec().Name()
		},
	})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()

	client := rpc.NewRouter()
	_ = client.Register("name", rpc.Func(func(context.Context, struct{}) (string, error) { return "Ada", nil }))
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	p, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{
		Codec:   cbor.Codec{}, // offered as subprotocol "jsonrpc2.cbor"
		Handler: client,
	})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	greeting, err := rpc.Call[string](context.Background(), p, "greet", []string{"Hello"})
	fmt.Println(<-connected)
	fmt.Println(greeting, err)
	// Output:
	// server: new client speaking cbor
	// Hello, Ada! <nil>
}

// A client that keeps its link to a server across drops and restarts,
// subscribing again each time the link comes back.
func ExampleNewReconnecting() {
	handler := rpc.NewRouter()
	_ = handler.Register("news", rpc.Func(func(_ context.Context, p []string) (any, error) {
		fmt.Println("news:", p[0])
		return nil, nil
	}))
	client, err := websocket.NewReconnecting("ws://127.0.0.1:8080/rpc", &websocket.ReconnectOptions{
		DialOptions: websocket.DialOptions{Handler: handler},
		OnConnect: func(p *rpc.Peer) {
			// Each link is a new session on the server: subscribe again.
			_ = p.Notify(context.Background(), "subscribe", []string{"news"})
		},
		OnDisconnect: func(err error) { fmt.Println("link lost:", err) },
	})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	// Waits for the link up to the deadline; a call in flight at a drop
	// fails with websocket.ErrDisconnected and is not sent again.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var sum int
	if err := client.Call(ctx, "add", []int{1, 2}, &sum); err != nil {
		fmt.Println(err)
	}
}
