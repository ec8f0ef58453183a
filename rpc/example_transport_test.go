package rpc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/parleyrpc/parley/rpc"
)

// framedConn is a complete Transport over a net.Conn: each message goes as
// a 4-byte big-endian length, then its bytes. Start, Send and Close are
// all a transport implements.
type framedConn struct {
	conn  net.Conn
	wlock chan struct{} // one writer at a time; a waiting Send gives up with its ctx
}

func newFramedConn(c net.Conn) *framedConn {
	return &framedConn{conn: c, wlock: make(chan struct{}, 1)}
}

// Start reads on a goroutine of its own, one message at a time, and
// reports the end of the link once, after the last message.
func (t *framedConn) Start(in rpc.Inbound) {
	go func() {
		var size [4]byte
		for {
			if _, err := io.ReadFull(t.conn, size[:]); err != nil {
				in.OnClose(err)
				return
			}
			n := binary.BigEndian.Uint32(size[:])
			if n > uint32(in.MaxMessageSize()) {
				t.conn.Close()
				in.OnClose(fmt.Errorf("framed: a %d-byte message is over the limit", n))
				return
			}
			msg := make([]byte, n)
			if _, err := io.ReadFull(t.conn, msg); err != nil {
				in.OnClose(err)
				return
			}
			in.OnMessage(msg) // the peer owns msg now
		}
	}()
}

// Send writes one frame. (A transport over a network would also bound the
// write itself, with a write deadline.)
func (t *framedConn) Send(ctx context.Context, msg []byte) error {
	select {
	case t.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-t.wlock }()
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	_, err := t.conn.Write(append(frame, msg...))
	return err
}

// Close closes the connection; the reading goroutine then fails and
// reports the end.
func (t *framedConn) Close() error { return t.conn.Close() }

// A transport written by hand, over a net.Conn with length-prefixed
// frames: two peers over it call each other both ways.
func Example_transport() {
	a, b := net.Pipe() // or a TCP connection, a serial line...

	serverRoutes := rpc.NewRouter()
	serverRoutes.RegisterFunc("add", func(_ context.Context, p []int) (int, error) { return p[0] + p[1], nil })
	clientRoutes := rpc.NewRouter()
	clientRoutes.RegisterFunc("whoami", func(context.Context) (string, error) { return "client-1", nil })

	server, err := rpc.NewPeer(newFramedConn(a), rpc.WithHandler(serverRoutes))
	if err != nil {
		panic(err)
	}
	defer server.Close()
	client, err := rpc.NewPeer(newFramedConn(b), rpc.WithHandler(clientRoutes))
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx := context.Background()
	sum, err := rpc.Call[int](ctx, client, "add", []int{2, 3})
	fmt.Println("client -> server: add =", sum, err)
	who, err := rpc.Call[string](ctx, server, "whoami", nil)
	fmt.Println("server -> client: whoami =", who, err)
	// Output:
	// client -> server: add = 5 <nil>
	// server -> client: whoami = client-1 <nil>
}
