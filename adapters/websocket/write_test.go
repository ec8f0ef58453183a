package websocket_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// TestCoalescedWrites: many senders at once, some of them giving up while
// queued, in both directions. Writes coalesced into one system call keep
// each sender's order, every message that Send accepted arrives, and none
// is left behind in a buffer when the burst ends.
func TestCoalescedWrites(t *testing.T) {
	const (
		senders = 16
		each    = 300
	)
	type tally struct {
		mu   sync.Mutex
		last map[int]int // sender -> last sequence number seen
		got  int
		bad  string
	}
	handler := func(tl *tally) rpc.Handler {
		r := rpc.NewRouter()
		mustRegister(t, r, "seq", rpc.Func(func(_ context.Context, p [2]int) (any, error) {
			tl.mu.Lock()
			defer tl.mu.Unlock()
			if prev, ok := tl.last[p[0]]; ok && p[1] <= prev && tl.bad == "" {
				tl.bad = fmt.Sprintf("sender %d: %d after %d", p[0], p[1], prev)
			}
			tl.last[p[0]] = p[1]
			tl.got++
			return nil, nil
		}))
		mustRegister(t, r, "ping", rpc.Func(func(context.Context, []int) (int, error) { return 1, nil }))
		return r
	}
	var serverTally, clientTally = &tally{last: map[int]int{}}, &tally{last: map[int]int{}}
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: handler(serverTally), Peers: &peers})
	client := dial(t, ts.url, &websocket.DialOptions{Handler: handler(clientTally)})
	server := onlyPeer(t, &peers)

	push := func(p *rpc.Peer) int {
		var sent atomic.Int64
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					ctx := context.Background()
					var cancel context.CancelFunc = func() {}
					if rand.IntN(4) == 0 { // some give up while queued
						ctx, cancel = context.WithTimeout(ctx, time.Duration(rand.IntN(20))*time.Microsecond)
					}
					if p.Notify(ctx, "seq", [2]int{s, i}) == nil {
						sent.Add(1)
					}
					cancel()
					if i%50 == 0 {
						// Calls mixed in: their answers come back coalesced too.
						if err := p.Call(context.Background(), "ping", []int{}, nil); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		return int(sent.Load())
	}
	var wg sync.WaitGroup
	var toServer, toClient int
	wg.Add(2)
	go func() { defer wg.Done(); toServer = push(client) }()
	go func() { defer wg.Done(); toClient = push(server) }()
	wg.Wait()

	for _, c := range []struct {
		name string
		tl   *tally
		want int
	}{{"server", serverTally, toServer}, {"client", clientTally, toClient}} {
		waitFor(t, c.name+" receiving every accepted notification", func() bool {
			c.tl.mu.Lock()
			defer c.tl.mu.Unlock()
			return c.tl.got == c.want
		})
		if c.tl.bad != "" {
			t.Errorf("%s: out of order: %s", c.name, c.tl.bad)
		}
		t.Logf("%s received %d notifications", c.name, c.want)
	}
}

// TestTLS: wss:// works, with the write coalescing below TLS.
func TestTLS(t *testing.T) {
	srv, err := websocket.NewServer(&websocket.ServerOptions{Handler: serverRouter(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewTLSServer(srv)
	defer hs.Close()
	defer srv.Close()
	url := "wss" + strings.TrimPrefix(hs.URL, "https")
	certs := hs.Client().Transport.(*http.Transport).TLSClientConfig
	p := dial(t, url, &websocket.DialOptions{
		Handler: clientRouter(t),
		Dialer:  &gorilla.Dialer{TLSClientConfig: certs.Clone(), HandshakeTimeout: 5 * time.Second},
	})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := rpc.Call[int](ctx, p, "callback", []int{i, 2}); err != nil || n != 2*i+1 {
				t.Errorf("callback over TLS: %d, %v", n, err)
			}
		}()
	}
	wg.Wait()
}

// wrapped is middleware's ResponseWriter: it hides http.Hijacker but
// offers Unwrap, as http.ResponseController expects.
type wrapped struct{ http.ResponseWriter }

func (w wrapped) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestBehindMiddleware: the server works behind middleware that wraps the
// ResponseWriter without forwarding Hijack.
func TestBehindMiddleware(t *testing.T) {
	srv, err := websocket.NewServer(&websocket.ServerOptions{Handler: serverRouter(t)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(wrapped{w}, r)
	}))
	defer hs.Close()
	defer srv.Close()
	p := dial(t, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if sum, err := rpc.Call[int](testCtx(t), p, "add", []int{2, 3}); err != nil || sum != 5 {
		t.Fatalf("add = %d, %v", sum, err)
	}
}
