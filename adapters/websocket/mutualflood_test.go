package websocket_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// Two Parley peers that flood each other with calls whose answers are big,
// each with few handler slots: either the calls keep flowing, or, once
// both have stopped reading (every slot holding an answer the other end
// does not read), the write timeout ends the link with ErrWriteTimeout.
// Never a deadlock: every call ends, within a bound.
func TestMutualFloodEndsOrFlows(t *testing.T) {
	const (
		slots    = 2
		callers  = 16
		answer   = 512 << 10
		deadline = 60 * time.Second
	)
	big := strings.Repeat("b", answer)
	routes := rpc.NewRouter()
	mustRegister(t, routes, "big", rpc.Func(func(context.Context, []int) (string, error) { return big, nil }))
	opts := []rpc.Option{rpc.WithMaxConcurrency(slots), rpc.WithMaxMessageSize(4 << 20)}
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{
		Handler: routes, PeerOptions: opts, Peers: &peers, WriteTimeout: 300 * time.Millisecond,
	})
	client := dial(t, ts.url, &websocket.DialOptions{
		Handler: routes, PeerOptions: opts, WriteTimeout: 300 * time.Millisecond,
	})
	server := onlyPeer(t, &peers)

	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	stop := time.Now().Add(3 * time.Second)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok, lost int
		other    []error
	)
	for _, p := range []*rpc.Peer{client, server} {
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					var s string
					err := p.Call(ctx, "big", []int{}, &s)
					mu.Lock()
					switch {
					case err == nil && len(s) == answer:
						ok++
					case errors.Is(err, rpc.ErrConnectionLost):
						lost++
					default:
						other = append(other, err)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		t.Fatalf("calls still waiting after %v: the peers deadlocked", deadline)
	}
	t.Logf("%d calls answered, %d ended with the link", ok, lost)
	for _, err := range other {
		t.Errorf("a call ended with %v, want its answer or ErrConnectionLost", err)
	}
	if lost > 0 {
		// Whichever end gave up first says why: its write timed out.
		err1, err2 := waitEnd(t, client), waitEnd(t, server)
		if !errors.Is(err1, websocket.ErrWriteTimeout) && !errors.Is(err2, websocket.ErrWriteTimeout) {
			t.Errorf("the link ended with %v / %v; want one end's ErrWriteTimeout", err1, err2)
		}
	}
}
