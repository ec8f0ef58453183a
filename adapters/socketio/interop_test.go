package socketio_test

import (
	"context"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// testRouter serves the methods the node scripts call.
func testRouter() *rpc.Router {
	r := rpc.NewRouter()
	r.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	}))
	r.Register("greet", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
		return "hello, " + p.Name, nil
	}))
	// callback calls the client back from inside the handler.
	r.Register("callback", rpc.Func(func(ctx context.Context, p [2]int) (int, error) {
		return rpc.Call[int](ctx, rpc.PeerFromContext(ctx), "mul", p)
	}))
	return r
}

// TestInterop: socket.io-client 2.5.0 with json-rpc-2.0 under node calls
// the Go server (positional and named params, -32601, -32602, a call that
// calls back) and answers the server's own calls, in JSON and in CBOR.
func TestInterop(t *testing.T) {
	for _, codecName := range []string{"json", "cbor"} {
		t.Run(codecName, func(t *testing.T) {
			type serverSide struct {
				codec string
				mul   int
				echo  string
				err   error
			}
			got := make(chan serverSide, 1)
			const text = "héllo \u2028 <&> \"quoted\" \\ 😀"
			f := newFixture(t, socketio.ServerOptions{
				Handler: testRouter(),
				OnConnect: func(p *rpc.Peer, conn sio.Conn) {
					// Sending from inside go-socket.io's connect handler,
					// where an emit would deadlock: the message waits in
					// the connection's queue.
					_ = p.Notify(context.Background(), "hello", []string{"from OnConnect"})
					// Calls from OnConnect itself could not be answered
					// before it returns: go.
					go func() {
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						r := serverSide{codec: p.Codec().Name()}
						r.mul, r.err = rpc.Call[int](ctx, p, "mul", []int{6, 7})
						if r.err == nil {
							r.echo, r.err = rpc.Call[string](ctx, p, "echo", []string{text})
						}
						got <- r
						_ = p.Notify(ctx, "bye", []string{"done"})
					}()
				},
			}, nil)
			out := node(t, 30*time.Second, "interop.mjs", f.url, codecName)

			var sum struct {
				Add, Named, Unknown, BadParams, Callback outcome
				Hello, Bye                               string
			}
			lastJSON(t, out, &sum)
			sum.Add.is(t, "add", "3")
			sum.Named.is(t, "greet", `"hello, node"`)
			sum.Unknown.fails(t, "unknown method", rpc.CodeMethodNotFound)
			sum.BadParams.fails(t, "wrong params", rpc.CodeInvalidParams)
			sum.Callback.is(t, "callback", "42")
			if sum.Hello != "from OnConnect" {
				t.Errorf("notification sent from OnConnect: got %q", sum.Hello)
			}
			if sum.Bye != "done" {
				t.Errorf("bye notification: got %q", sum.Bye)
			}
			r := <-got
			if r.err != nil || r.mul != 42 || r.echo != text || r.codec != codecName {
				t.Errorf("server-to-client calls: codec %s, mul %d, echo %q, err %v", r.codec, r.mul, r.echo, r.err)
			}
		})
	}
}

// TestUnknownCodecRefused: a client asking for a codec the server does
// not serve is refused, and go-socket.io keeps no session for it.
func TestUnknownCodecRefused(t *testing.T) {
	disconnected := make(chan string, 1)
	f := newFixture(t, socketio.ServerOptions{
		SocketOnDisconnect: func(conn sio.Conn, reason string) {
			select {
			case disconnected <- conn.ID():
			default:
			}
		},
	}, nil)
	out := node(t, 20*time.Second, "refused.mjs", f.url, "xml")
	if out == "" {
		t.Fatal("no output")
	}
	var res struct{ Disconnected bool }
	lastJSON(t, out, &res)
	if !res.Disconnected {
		t.Errorf("the client was not disconnected: %s", out)
	}
	select {
	case <-disconnected:
	case <-time.After(5 * time.Second):
		t.Error("OnDisconnect was not called for the refused connection")
	}
	if f.peers.Len() != 0 {
		t.Errorf("a refused connection has a peer")
	}
	waitCount(t, f.io, 0)
}

// waitCount waits until go-socket.io holds n sessions.
func waitCount(t *testing.T, s *sio.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("go-socket.io holds %d sessions, want %d", s.Count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
