package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// callBG makes a call with a context that cannot end, failing the test if
// it does not return within a few seconds.
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

// Sequential calls in both directions, with each codec, whether their
// context can end or not.
func TestSequentialCalls(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			client, server := connectedPair(t, c)

			for _, dir := range []struct {
				name   string
				caller *rpc.Peer
				method string
				ctx    context.Context
			}{
				{"c2s", client, "add", context.Background()}, {"s2c", server, "mul", context.Background()},
				{"c2s with a deadline", client, "add", testCtx(t)}, {"s2c with a deadline", server, "mul", testCtx(t)},
			} {
				for i := range 100 {
					var got int
					if err := dir.caller.Call(dir.ctx, dir.method, []int{i, 2}, &got); err != nil {
						t.Fatalf("%s %d: %v", dir.name, i, err)
					}
					if want := map[string]int{"add": i + 2, "mul": 2 * i}[dir.method]; got != want {
						t.Fatalf("%s %d: got %d, want %d", dir.name, i, got, want)
					}
				}
			}
		})
	}
}

// Between calls a message from the other end arrives at once: nothing
// leaves a connection unread.
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

// A connection ends properly between calls, closed by either end, and a
// call in flight when the link drops gets the connection-lost error.
func TestEndBetweenAndDuringCalls(t *testing.T) {
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
	for _, cancellable := range []bool{false, true} {
		name := "drop during a call"
		if cancellable {
			name += ", the caller's context able to end"
		}
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t)})
			px := newProxy(t, ts.http.Listener.Addr().String())
			client := dial(t, px.url(), nil)
			if err := callBG(t, client, "add", []int{1, 2}, nil); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				if cancellable {
					done <- client.Call(testCtx(t), "sleep", struct{ Ms int }{5000}, nil)
					return
				}
				done <- callBG(t, client, "sleep", struct{ Ms int }{5000}, nil)
			}()
			px.kill()
			if err := <-done; !errors.Is(err, rpc.ErrConnectionLost) {
				t.Fatalf("call in flight: %v, want ErrConnectionLost", err)
			}
			if err := waitEnd(t, client); !errors.Is(err, rpc.ErrConnectionLost) {
				t.Fatalf("client ended with %v", err)
			}
		})
	}
}

// A caller whose context ends before its answer comes returns at once with
// the context's error, without harm to the link, over which the next calls
// go through. Both directions, each codec, and over TLS.
func TestCancelledCallsKeepTheLink(t *testing.T) {
	type pair struct{ client, server *rpc.Peer }
	pairs := map[string]func(t *testing.T) pair{
		"json": func(t *testing.T) pair { c, s := connectedPair(t, nil); return pair{c, s} },
		"cbor": func(t *testing.T) pair { c, s := connectedPair(t, codecs[1]); return pair{c, s} },
		"tls": func(t *testing.T) pair {
			var peers rpc.PeerSet
			srv, err := websocket.NewServer(&websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewTLSServer(srv)
			t.Cleanup(func() { _ = srv.Close(); hs.Close() })
			certs := hs.Client().Transport.(*http.Transport).TLSClientConfig
			c := dial(t, "wss"+strings.TrimPrefix(hs.URL, "https"), &websocket.DialOptions{
				Handler: clientRouter(t),
				Dialer:  &gorilla.Dialer{TLSClientConfig: certs.Clone(), HandshakeTimeout: 5 * time.Second},
			})
			return pair{c, onlyPeer(t, &peers)}
		},
	}
	for name, connect := range pairs {
		t.Run(name, func(t *testing.T) {
			p := connect(t)
			for _, dir := range []struct {
				name           string
				caller, callee *rpc.Peer
				method         string
			}{{"c2s", p.client, p.server, "add"}, {"s2c", p.server, p.client, "mul"}} {
				for i := range 10 {
					for range 2 {
						if err := dir.caller.Call(testCtx(t), dir.method, []int{i, 2}, nil); err != nil {
							t.Fatal(err)
						}
					}
					ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
					start := time.Now()
					err := dir.caller.Call(ctx, "sleep", struct{ Ms int }{10000}, nil)
					cancel()
					if !errors.Is(err, context.DeadlineExceeded) {
						t.Fatalf("%s %d: %v, want the deadline's error", dir.name, i, err)
					}
					if d := time.Since(start); d > 5*time.Second {
						t.Fatalf("%s %d: returned after %v", dir.name, i, d)
					}
					var got int
					if err := dir.caller.Call(testCtx(t), dir.method, []int{i, 3}, &got); err != nil {
						t.Fatalf("%s %d: the next call: %v", dir.name, i, err)
					}
					if err := callBG(t, dir.callee, map[string]string{"add": "mul", "mul": "add"}[dir.method], []int{i, 3}, nil); err != nil {
						t.Fatalf("%s %d: a call the other way: %v", dir.name, i, err)
					}
				}
			}
		})
	}
}

// Calls whose context can end or not, calls from the other end and
// handlers that call back, all at once from many goroutines on one
// connection: each call gets its own answer, once.
func TestMixedCalls(t *testing.T) {
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
