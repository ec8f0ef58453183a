package stream_test

import (
	"context"
	"fmt"
	"net"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/rpc"
)

// A server on a socket and a client, both Parley: calls go both ways.
func Example() {
	router := rpc.NewRouter()
	router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) { return p[0] + p[1], nil }))
	srv, err := stream.NewServer(&stream.ServerOptions{Handler: router})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	go srv.Serve(ln)

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := stream.NewPeer(conn, nil) // header framing, JSON
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	sum, err := rpc.Call[int](context.Background(), client, "add", []int{2, 3})
	fmt.Println(sum, err)
	// Output: 5 <nil>
}

// Framing is visible on the wire: an LSP frame.
func ExampleNewTransport() {
	a, b := net.Pipe()
	defer b.Close()
	t, _ := stream.NewTransport(a, &stream.Options{Framing: stream.Header})
	defer t.Close()
	go t.Send(context.Background(), []byte(`{"jsonrpc":"2.0","method":"hi"}`))
	buf := make([]byte, 54)
	n, _ := b.Read(buf)
	fmt.Printf("%q\n", buf[:n])
	// Output: "Content-Length: 31\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"hi\"}"
}
