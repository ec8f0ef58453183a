package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// Over a transport that can fork its reading (the pipe can), a call's
// handler runs on the reading goroutine; once one blocks, the reading
// forks and the peer's next calls get goroutines of their own.
func TestHandlersRunOnTheReaderUntilOneBlocks(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	server := router(t,
		"add", rpc.Func(add),
		"block", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			close(started)
			<-release
			return nil, nil
		}),
		"release", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			close(release)
			return nil, nil
		}))
	s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	ctx := testCtx(t)
	// On a loaded machine (under -race, next to other packages' tests) a
	// handler descheduled for a couple of milliseconds is rightly taken
	// for a blocking one; then calls get goroutines for a second. Allow a
	// few such rounds.
	for attempt := 1; ; attempt++ {
		before, _ := rpc.RunsOnReader(s)
		for i := range 100 {
			if got, err := rpc.Call[int](ctx, c, "add", []int{i, 1}); err != nil || got != i+1 {
				t.Fatalf("add(%d, 1) = %d, %v", i, got, err)
			}
		}
		runs, spawning := rpc.RunsOnReader(s)
		if runs-before == 100 && !spawning {
			break
		}
		if attempt == 5 {
			t.Fatalf("after 100 calls one at a time: %d ran on the reader (spawning: %v), want 100", runs-before, spawning)
		}
		t.Logf("attempt %d: %d of 100 calls ran on the reader (spawning: %v); again", attempt, runs-before, spawning)
		time.Sleep(1100 * time.Millisecond) // spawnFor, and a margin
	}

	// "block" holds the reading goroutine until "release", which can only
	// be read once the reading has forked away from it.
	blocked := make(chan error, 1)
	go func() { blocked <- c.Call(ctx, "block", nil, nil) }()
	<-started
	if err := c.Call(ctx, "release", nil, nil); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := <-blocked; err != nil {
		t.Fatalf("block: %v", err)
	}
	runs, spawning := rpc.RunsOnReader(s)
	if !spawning {
		t.Fatal("a handler blocked, yet calls still run on the reader")
	}
	if _, err := rpc.Call[int](ctx, c, "add", []int{1, 1}); err != nil {
		t.Fatal(err)
	}
	if now, _ := rpc.RunsOnReader(s); now != runs {
		t.Fatalf("%d calls ran on the reader after a handler blocked, want 0", now-runs)
	}
}

// A handler waiting for the next message of its own link is freed by the
// watchdog's fork, whatever it waits on: here, a notification.
func TestHandlerWaitingForTheNextMessage(t *testing.T) {
	noted := make(chan struct{})
	server := router(t,
		"await", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
			select {
			case <-noted:
				return "noted", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}),
		"note", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			close(noted)
			return nil, nil
		}))
	_, raw := newRaw(t, rpc.WithHandler(server))
	raw.send(t, `{"jsonrpc":"2.0","id":1,"method":"await"}`)
	time.Sleep(10 * time.Millisecond) // let "await" start alone on the reader
	raw.send(t, `{"jsonrpc":"2.0","method":"note"}`)
	if got, want := raw.next(t), `{"jsonrpc": "2.0", "result": "noted", "id": 1}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// A handler on the reading goroutine that calls back the end that called
// it gets its answer: with its own context the reading forks at once, with
// another the watchdog forks it.
func TestHandlerOnTheReaderCallsBack(t *testing.T) {
	for _, own := range []bool{true, false} {
		t.Run(map[bool]string{true: "own-context", false: "other-context"}[own], func(t *testing.T) {
			server := router(t, "outer", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
				callCtx := ctx
				if !own {
					var cancel context.CancelFunc
					callCtx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
				}
				return rpc.Call[int](callCtx, rpc.PeerFromContext(ctx), "inner", []int{20, 22})
			}))
			_, c := pair(t, []rpc.Option{rpc.WithHandler(server)},
				[]rpc.Option{rpc.WithHandler(router(t, "inner", rpc.Func(add)))})
			for range 3 {
				if got, err := rpc.Call[int](testCtx(t), c, "outer", nil); err != nil || got != 42 {
					t.Fatalf("outer = %d, %v", got, err)
				}
			}
		})
	}
}

// Close returns while a handler holds the reading goroutine, whether it is
// called from elsewhere or by that handler.
func TestCloseWhileAHandlerHoldsTheReader(t *testing.T) {
	for _, fromHandler := range []bool{false, true} {
		t.Run(map[bool]string{false: "from-outside", true: "from-the-handler"}[fromHandler], func(t *testing.T) {
			started := make(chan struct{})
			release := make(chan struct{})
			closed := make(chan struct{})
			server := router(t, "hold", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
				close(started)
				if fromHandler {
					rpc.PeerFromContext(ctx).Close()
					close(closed)
				}
				<-release
				return nil, nil
			}))
			s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
			defer close(release)
			errc := make(chan error, 1)
			go func() { errc <- c.Call(context.Background(), "hold", nil, nil) }()
			<-started
			if !fromHandler {
				go func() { s.Close(); close(closed) }()
			}
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close did not return while a handler held the reader")
			}
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the peer did not end")
			}
			if err := <-errc; !errors.Is(err, rpc.ErrConnectionLost) {
				t.Fatalf("call: %v, want ErrConnectionLost", err)
			}
		})
	}
}

// Calls that finish at once, block for a while, call back the caller (with
// their own context and without), or wait until cancelled, mixed and from
// several goroutines, so that runs on the reader, forks by each route and
// goroutines of their own all interleave: every call ends exactly once,
// with its own answer or its own cancellation.
func TestHandoffMixedLoad(t *testing.T) {
	server := router(t, "work", rpc.Func(func(ctx context.Context, p []int) (int, error) {
		kind, n := p[0], p[1]
		switch kind {
		case 1: // block for a while
			time.Sleep(time.Duration(n%3) * time.Millisecond)
		case 2, 3: // call back the caller
			callCtx := ctx
			if kind == 3 {
				var cancel context.CancelFunc
				callCtx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
			}
			return rpc.Call[int](callCtx, rpc.PeerFromContext(ctx), "inc", []int{n})
		case 4: // wait to be cancelled
			<-ctx.Done()
			return 0, ctx.Err()
		}
		return n + 1, nil
	}))
	inc := router(t, "inc", rpc.Func(func(_ context.Context, p []int) (int, error) { return p[0] + 1, nil }))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, []rpc.Option{rpc.WithHandler(inc)})
	ctx := testCtx(t)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 100 {
				n := g*1000 + i
				kind := (g + i) % 5
				callCtx, cancel := ctx, context.CancelFunc(func() {})
				if kind == 4 {
					callCtx, cancel = context.WithTimeout(ctx, time.Millisecond)
				}
				got, err := rpc.Call[int](callCtx, c, "work", []int{kind, n})
				cancel()
				switch {
				case kind == 4 && !errors.Is(err, context.DeadlineExceeded):
					errs <- fmt.Errorf("call %d (wait): %v, want DeadlineExceeded", n, err)
					return
				case kind != 4 && (err != nil || got != n+1):
					errs <- fmt.Errorf("call %d (kind %d) = %d, %v; want %d", n, kind, got, err, n+1)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
