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

// Sequential calls read their answers themselves, in both directions,
// with each codec, whether their context can end or not; calls from the
// other end are still served between them.
func TestCallerReadsItsAnswer(t *testing.T) {
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
				before := websocket.CallerReads()
				for i := range 100 {
					var got int
					if err := dir.caller.Call(dir.ctx, dir.method, []int{i, 2}, &got); err != nil {
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
	for _, cancellable := range []bool{false, true} {
		name := "drop during a read"
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
			before := websocket.CallerReads()
			done := make(chan error, 1)
			go func() {
				if cancellable {
					done <- client.Call(testCtx(t), "sleep", struct{ Ms int }{5000}, nil)
					return
				}
				done <- callBG(t, client, "sleep", struct{ Ms int }{5000}, nil)
			}()
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
}

// A caller whose context ends while it reads, its answer still to come,
// returns at once with the context's error; its read is cut short without
// harm to the link, over which the next calls go through, read by their
// callers again. Both directions, each codec, and over TLS, where the
// server's connection is interrupted above TLS (a wss:// client's own
// calls wait for its read loop: its netConn lies below TLS).
func TestCancelWhileCallerReads(t *testing.T) {
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
				interrupted := 0
				for i := range 10 {
					// Two calls first, after which the read loop leaves the
					// reading to the next caller.
					for range 2 {
						if err := dir.caller.Call(testCtx(t), dir.method, []int{i, 2}, nil); err != nil {
							t.Fatal(err)
						}
					}
					before := websocket.CallerReads()
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
					if websocket.CallerReads() != before {
						interrupted++ // it read, and its answer never came
					}
					var got int
					if err := dir.caller.Call(testCtx(t), dir.method, []int{i, 3}, &got); err != nil {
						t.Fatalf("%s %d: the next call: %v", dir.name, i, err)
					}
					if err := callBG(t, dir.callee, map[string]string{"add": "mul", "mul": "add"}[dir.method], []int{i, 3}, nil); err != nil {
						t.Fatalf("%s %d: a call the other way: %v", dir.name, i, err)
					}
				}
				// Over TLS the client's calls wait for the read loop. Else
				// most callers read (all, unless the resume timer restarted
				// the loop between calls on a loaded machine or under -race).
				if want := 3; (name != "tls" || dir.name == "s2c") && interrupted < want {
					t.Errorf("%s: %d of 10 callers were reading when their context ended, want %d or more", dir.name, interrupted, want)
				}
				t.Logf("%s: %d of 10 callers were reading when their context ended", dir.name, interrupted)
			}
		})
	}
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
