package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/rpc"
)

// Two peers joined by an in-memory pipe call each other.
func Example() {
	left, right := rpc.Pipe()

	router := rpc.NewRouter()
	router.Register("add", rpc.Func(func(ctx context.Context, p []int) (int, error) {
		return p[0] + p[1], nil
	}))
	server, _ := rpc.NewPeer(left, rpc.WithHandler(router))
	defer server.Close()
	client, _ := rpc.NewPeer(right)
	defer client.Close()

	sum, err := rpc.Call[int](context.Background(), client, "add", []int{1, 2})
	fmt.Println(sum, err)

	err = client.Call(context.Background(), "divide", []int{1, 0}, nil)
	fmt.Println(errors.Is(err, rpc.ErrMethodNotFound), rpc.IsRemote(err))
	// Output:
	// 3 <nil>
	// true true
}

// A handler calls back into the peer that called it: the server asks the
// client for its name before answering.
func ExamplePeerFromContext() {
	left, right := rpc.Pipe()

	serverRoutes := rpc.NewRouter()
	serverRoutes.Register("greet", rpc.Func(func(ctx context.Context, _ struct{}) (string, error) {
		caller := rpc.PeerFromContext(ctx)
		name, err := rpc.Call[string](ctx, caller, "name", nil)
		return "hello, " + name, err
	}))
	clientRoutes := rpc.NewRouter()
	clientRoutes.Register("name", rpc.Func(func(ctx context.Context, _ struct{}) (string, error) {
		return "browser", nil
	}))

	server, _ := rpc.NewPeer(left, rpc.WithHandler(serverRoutes))
	defer server.Close()
	client, _ := rpc.NewPeer(right, rpc.WithHandler(clientRoutes))
	defer client.Close()

	greeting, _ := rpc.Call[string](context.Background(), client, "greet", nil)
	fmt.Println(greeting)
	// Output: hello, browser
}

// The server calls every connected client and gathers the answers.
func ExampleCallAll() {
	var clients rpc.PeerSet
	for _, name := range []string{"a", "b"} {
		left, right := rpc.Pipe()
		routes := rpc.NewRouter()
		routes.Register("whoami", rpc.Func(func(ctx context.Context, _ struct{}) (string, error) {
			return "client " + name, nil
		}))
		client, _ := rpc.NewPeer(right, rpc.WithHandler(routes))
		defer client.Close()
		server, _ := rpc.NewPeer(left)
		defer server.Close()
		clients.Add(name, server)
	}

	replies := rpc.CallAll[string](context.Background(), &clients, "whoami", nil, time.Second)
	answers := map[string]string{}
	for _, r := range replies {
		answers[r.ID] = r.Result
	}
	fmt.Println(answers["a"], "/", answers["b"])
	// Output: client a / client b
}

// Swapping the codec is one option, the same on both ends.
func ExampleWithCodec() {
	left, right := rpc.Pipe()
	router := rpc.NewRouter()
	router.Register("echo", rpc.Func(func(ctx context.Context, p map[string]string) (map[string]string, error) {
		return p, nil
	}))
	server, _ := rpc.NewPeer(left, rpc.WithHandler(router), rpc.WithCodec(cbor.Codec{}))
	defer server.Close()
	client, _ := rpc.NewPeer(right, rpc.WithCodec(cbor.Codec{}))
	defer client.Close()

	got, _ := rpc.Call[map[string]string](context.Background(), client, "echo", map[string]string{"hi": "there"})
	fmt.Println(got["hi"])
	// Output: there
}
