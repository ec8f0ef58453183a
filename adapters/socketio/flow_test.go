package socketio_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// TestInOrder: messages of one connection reach the peer one at a time,
// in the order sent (notifications are handled in arrival order, so their
// order shows the transport's).
func TestInOrder(t *testing.T) {
	const n = 500
	var mu sync.Mutex
	var seen []int
	all := make(chan struct{})
	r := rpc.NewRouter()
	r.Register("seq", rpc.Func(func(_ context.Context, p [1]int) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		if seen = append(seen, p[0]); len(seen) == n {
			close(all)
		}
		return nil, nil
	}))
	r.Register("count", rpc.Func(func(ctx context.Context, _ []int) (int, error) {
		select {
		case <-all:
		case <-ctx.Done():
		}
		mu.Lock()
		defer mu.Unlock()
		return len(seen), nil
	}))
	f := newFixture(t, socketio.ServerOptions{Handler: r}, nil)
	var res struct{ Count outcome }
	lastJSON(t, node(t, 20*time.Second, "order.mjs", f.url, strconv.Itoa(n)), &res)
	res.Count.is(t, "count", strconv.Itoa(n))
	mu.Lock()
	defer mu.Unlock()
	if !slices.IsSorted(seen) {
		t.Errorf("notifications out of order: %v", seen)
	}
}

// TestBackpressure: a peer whose handler slots are all busy stops reading
// its own connection only; other clients are served meanwhile.
func TestBackpressure(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	r := testRouter()
	r.Register("block", rpc.Func(func(ctx context.Context, _ []int) (string, error) {
		select {
		case <-release:
			return "released", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	r.Register("release", rpc.Func(func(context.Context, []int) (bool, error) {
		once.Do(func() { close(release) })
		return true, nil
	}))
	f := newFixture(t, socketio.ServerOptions{Handler: r, PeerOptions: []rpc.Option{rpc.WithMaxConcurrency(1)}}, nil)
	var res struct {
		Released, Blocked, Added outcome
		Events                   []string
	}
	lastJSON(t, node(t, 20*time.Second, "stall.mjs", f.url), &res)
	res.Released.is(t, "release", "true")
	res.Blocked.is(t, "block", `"released"`)
	res.Added.is(t, "add", "2")
	if want := []string{"b:release", "a:add"}; !slices.Equal(res.Events, want) {
		t.Errorf("events %v, want %v: the stalled connection was read meanwhile", res.Events, want)
	}
}
