package rpc

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// goroutineID returns the calling goroutine's id, from its stack's header.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(b[:bytes.IndexByte(b, ' ')]), 10, 64)
	return id
}

// workerPair returns two peers over a pipe, the right one serving "where"
// (the id of the goroutine running the handler) and "wait" (blocks until
// release is closed); both are closed when the test ends.
func workerPair(t *testing.T, release <-chan struct{}) (*Peer, *Peer) {
	t.Helper()
	r := NewRouter()
	r.Register("where", HandlerFunc(func(context.Context, *Request) (any, error) { return goroutineID(), nil }))
	r.Register("wait", HandlerFunc(func(context.Context, *Request) (any, error) { <-release; return nil, nil }))
	a, b := Pipe()
	left, err := NewPeer(a)
	if err != nil {
		t.Fatal(err)
	}
	right, err := NewPeer(b, WithHandler(r), WithMaxConcurrency(maxIdleWorkers+50))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { left.Close(); right.Close() })
	return left, right
}

// idleWorkers returns the number of parked workers and of open peers.
func idleWorkers() (idle, peers int) {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	return len(workers.idle), workers.peers
}

// Sequential calls run on a goroutine that served an earlier one, not on
// a new goroutine each.
func TestWorkersAreReused(t *testing.T) {
	left, _ := workerPair(t, nil)
	seen := map[uint64]bool{}
	const calls = 50
	for range calls {
		var id uint64
		if err := left.Call(context.Background(), "where", nil, &id); err != nil {
			t.Fatal(err)
		}
		seen[id] = true
	}
	// A call can come in before the worker of the one before has parked;
	// most cannot.
	if len(seen) > calls/2 {
		t.Fatalf("%d calls ran on %d goroutines", calls, len(seen))
	}
}

// At most maxIdleWorkers wait; they end after workerIdle without work,
// and all of them once no peer is open.
func TestIdleWorkersEnd(t *testing.T) {
	if _, peers := idleWorkers(); peers != 0 {
		t.Skipf("%d peers of other tests still open", peers)
	}
	release := make(chan struct{})
	left, right := workerPair(t, release)
	var wg sync.WaitGroup
	for range maxIdleWorkers + 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := left.Call(context.Background(), "wait", nil, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "every call running", func() bool {
		right.mu.Lock()
		defer right.mu.Unlock()
		return len(right.serving) == maxIdleWorkers+40
	})
	close(release)
	wg.Wait()
	waitFor(t, "idle workers", func() bool { idle, _ := idleWorkers(); return idle > 0 })
	if idle, _ := idleWorkers(); idle > maxIdleWorkers {
		t.Fatalf("%d idle workers, at most %d wanted", idle, maxIdleWorkers)
	}

	workers.mu.Lock()
	workerIdle = 10 * time.Millisecond
	workers.mu.Unlock()
	t.Cleanup(func() {
		workers.mu.Lock()
		workerIdle = 10 * time.Second
		workers.mu.Unlock()
	})
	// Workers parked before the change wait out the old time; a call
	// parks one anew, with the new one, and that one ends. Counted as
	// goroutines: the worker that ran the call may park again only after
	// its answer has arrived, so the idle list could still lack it here.
	waitFor(t, "every worker parked or gone", func() bool { idle, _ := idleWorkers(); return workerCount() == idle })
	before := workerCount()
	if err := left.Call(context.Background(), "where", nil, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a worker's idle time to end it", func() bool { return workerCount() < before })

	left.Close()
	right.Close()
	waitFor(t, "the idle workers to end with the last peer", func() bool {
		idle, peers := idleWorkers()
		return idle == 0 && peers == 0 && !workerGoroutines()
	})
}

// workerGoroutines reports whether a worker goroutine is alive.
func workerGoroutines() bool { return workerCount() > 0 }

// workerCount returns the number of worker goroutines alive.
func workerCount() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("rpc.runWorker("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitFor polls cond until it holds, failing after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
