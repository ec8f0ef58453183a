package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// callBG makes a call with a context that cannot end, the kind a caller
// reads its own answer for, failing the test if it does not return within
// a few seconds.
func callBG(t testing.TB, p *rpc.Peer, method string, params, result any) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Call(context.Background(), method, params, result) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer in 10 s", method)
		return nil
	}
}

// connectedPair dials a new server with codec c (nil: the default), both
// ends serving the test routers, and returns the client's peer and the
// server's.
func connectedPair(t *testing.T, c codec.Codec) (client, server *rpc.Peer) {
	t.Helper()
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers})
	client = dial(t, ts.url, &websocket.DialOptions{Codec: c, PeerOptions: []rpc.Option{rpc.WithHandler(clientRouter(t))}})
	return client, onlyPeer(t, &peers)
}

// Sequential calls whose context cannot end read their answers
// themselves, in both directions, with each codec; calls from the other
// end are still served between them.
func TestCallerReadsItsAnswer(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			client, server := connectedPair(t, c)

			for _, dir := range []struct {
				name   string
				caller *rpc.Peer
				method string
			}{{"c2s", client, "add"}, {"s2c", server, "mul"}} {
				before := websocket.CallerReads()
				for i := range 100 {
					var got int
					if err := callBG(t, dir.caller, dir.method, []int{i, 2}, &got); err != nil {
						t.Fatalf("%s %d: %v", dir.name, i, err)
					}
					if want := map[string]int{"add": i + 2, "mul": 2 * i}[dir.method]; got != want {
						t.Fatalf("%s %d: got %d, want %d", dir.name, i, got, want)
					}
				}
				// The first call may be handed its answer by the read loop,
				// which then leaves the reading to callers; and the loop
				// resumes whenever the connection goes unread for a
				// millisecond, which a loaded machine may well take between
				// two calls here.
				if n := websocket.CallerReads() - before; n < 50 {
					t.Errorf("%s: %d of 100 calls read their answers, want most", dir.name, n)
				}
			}
		})
	}
}

// Between calls nobody reads the connection; a message from the other end
// then still arrives, the read loop resuming by itself.
func TestMessagesBetweenCallsAreRead(t *testing.T) {
	client, server := connectedPair(t, nil)
	ctx := testCtx(t)
	for i := range 20 {
		// The client's call leaves its connection unread; the server's
		// call must get through all the same, and the other way round.
		if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := rpc.Call[int](ctx, server, "mul", []int{i, 3}); err != nil || n != 3*i {
			t.Fatalf("mul after a client call: %d, %v", n, err)
		}
		if err := callBG(t, server, "mul", []int{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := rpc.Call[int](ctx, client, "add", []int{i, 3}); err != nil || n != i+3 {
			t.Fatalf("add after a server call: %d, %v", n, err)
		}
	}
}

// A connection nobody reads still ends properly: closed by either end,
// each peer sees the end, and a caller reading when the link drops gets
// the connection-lost error.
func TestEndWhileCallersRead(t *testing.T) {
	t.Run("local close between calls", func(t *testing.T) {
		ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t)})
		client := dial(t, ts.url, nil)
		if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		if err := client.Close(); err != nil {
			t.Fatal(err)
		}
		if err := waitEnd(t, client); !errors.Is(err, rpc.ErrClosed) {
			t.Fatalf("client ended with %v, want ErrClosed", err)
		}
		waitFor(t, "the server to see the client go", func() bool { return ts.Len() == 0 })
	})
	t.Run("remote close between calls", func(t *testing.T) {
		var peers rpc.PeerSet
		ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers})
		client := dial(t, ts.url, nil)
		if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		_ = onlyPeer(t, &peers).Close()
		if err := waitEnd(t, client); !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("client ended with %v, want ErrConnectionLost", err)
		}
	})
	t.Run("drop during a read", func(t *testing.T) {
		ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t)})
		px := newProxy(t, ts.http.Listener.Addr().String())
		client := dial(t, px.url(), nil)
		if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil {
			t.Fatal(err)
		}
		before := websocket.CallerReads()
		done := make(chan error, 1)
		go func() { done <- callBG(t, client, "sleep", struct{ Ms int }{5000}, nil) }()
		waitFor(t, "the caller to read", func() bool { return websocket.CallerReads() > before })
		px.kill()
		if err := <-done; !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("call in flight: %v, want ErrConnectionLost", err)
		}
		if err := waitEnd(t, client); !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("client ended with %v", err)
		}
	})
}

// A call from the other end that a caller reads runs on a goroutine of its
// own, never on the caller's: here the client's handler waits for the
// caller's own call to return first, which would otherwise never happen.
func TestCallerDoesNotRunHandlers(t *testing.T) {
	var peers rpc.PeerSet
	released := make(chan struct{})
	r := rpc.NewRouter()
	mustRegister(t, r, "hold", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		select {
		case <-released:
			return "held", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	sr := serverRouter(t)
	// trigger calls the client's "hold" without waiting, then answers:
	// the request reaches the client ahead of the answer.
	held := make(chan error, 1)
	mustRegister(t, sr, "trigger", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		p := rpc.PeerFromContext(ctx)
		go func() { held <- p.Call(context.Background(), "hold", nil, nil) }()
		time.Sleep(20 * time.Millisecond) // let the request go first
		return "triggered", nil
	}))
	ts := startServer(t, &websocket.ServerOptions{Handler: sr, Peers: &peers})
	client := dial(t, ts.url, &websocket.DialOptions{PeerOptions: []rpc.Option{rpc.WithHandler(r)}})
	_ = onlyPeer(t, &peers)
	if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil { // the reading passes to callers
		t.Fatal(err)
	}
	var got string
	if err := callBG(t, client, "trigger", nil, &got); err != nil || got != "triggered" {
		t.Fatalf("trigger: %q, %v", got, err)
	}
	close(released)
	select {
	case err := <-held:
		if err != nil {
			t.Fatalf("hold: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hold: no answer")
	}
}

// Callers that read for themselves, callers that wait for the read loop
// (their context can end), calls from the other end and handlers that
// call back, all at once from many goroutines on one connection: each
// call gets its own answer, once.
func TestMixedReaders(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			client, server := connectedPair(t, c)
			ctx := testCtx(t)
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 150 {
						var (
							p      = client
							method = "add"
							want   = g + i
							cctx   = context.Background()
						)
						switch (g + i) % 5 {
						case 1:
							cctx = ctx
						case 2:
							p, method, want = server, "mul", g*i
						case 3:
							p, method, want, cctx = server, "mul", g*i, ctx
						case 4:
							method, want = "callback", g*i+1
						}
						var got int
						if err := p.Call(cctx, method, []int{g, i}, &got); err != nil || got != want {
							errs <- fmt.Errorf("goroutine %d call %d %s: %d, %v (want %d)", g, i, method, got, err, want)
							return
						}
					}
				}()
			}
			finished := make(chan struct{})
			go func() { wg.Wait(); close(finished) }()
			select {
			case <-finished:
			case <-time.After(60 * time.Second):
				t.Fatal("calls still running after 60 s")
			}
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
