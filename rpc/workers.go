package rpc

import (
	"slices"
	"sync"
	"time"
)

// Handler goroutines are reused. A goroutine starts with a small stack and
// grows it, copying it each time, as a handler's code and its codec go
// deeper; a goroutine started per call paid that on every call, a large
// share of a call's CPU time with a codec whose decoder has deep frames.
// So the goroutine that ran a call waits, parked, for the
// next call of any peer in the process, with its stack grown, instead of
// ending.
//
// Idle goroutines are few and short-lived: at most maxIdleWorkers wait;
// each ends after workerIdle without work; and every one ends as soon as
// no peer is open, so a program (or a test that checks for leaked
// goroutines) that has closed its peers has none left.
const maxIdleWorkers = 256

// workerIdle is how long an idle worker waits for work; a variable
// (guarded by workers.mu) so that tests can shorten it.
var workerIdle = 10 * time.Second

// job is what a worker runs: a call, or a peer's notifications.
type job interface{ run() }

// worker is one reusable handler goroutine.
type worker struct {
	next chan job // the next job; closed to end the worker
}

var workers struct {
	mu    sync.Mutex
	idle  []*worker // parked, the most recently parked last
	peers int       // peers open in the process
}

// goServe runs j on an idle worker, or on a new one.
func goServe(j job) {
	workers.mu.Lock()
	if n := len(workers.idle); n > 0 {
		w := workers.idle[n-1]
		workers.idle[n-1] = nil
		workers.idle = workers.idle[:n-1]
		workers.mu.Unlock()
		w.next <- j // buffered: never blocks
		return
	}
	workers.mu.Unlock()
	go runWorker(j)
}

// runWorker runs j, then the jobs goServe hands it, until it has been idle
// for workerIdle, or no peer is open, or enough others are idle.
func runWorker(j job) {
	w := &worker{next: make(chan job, 1)}
	var idle *time.Timer
	for {
		j.run()
		j = nil // let it go while parked
		wait, ok := w.park()
		if !ok {
			return
		}
		if idle == nil {
			idle = time.NewTimer(wait)
		} else {
			idle.Reset(wait)
		}
		select {
		case j, ok = <-w.next:
		case <-idle.C:
			if w.unpark() {
				return
			}
			j, ok = <-w.next // goServe took it meanwhile: its job is on the way
		}
		if !ok {
			return
		}
	}
}

// park adds w to the idle workers, unless it should end instead, and
// returns how long it may wait.
func (w *worker) park() (time.Duration, bool) {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	if workers.peers == 0 || len(workers.idle) >= maxIdleWorkers {
		return 0, false
	}
	workers.idle = append(workers.idle, w)
	return workerIdle, true
}

// unpark takes w out of the idle workers; it reports false if goServe has
// already taken it.
func (w *worker) unpark() bool {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	for i, x := range workers.idle {
		if x == w {
			workers.idle = slices.Delete(workers.idle, i, i+1)
			return true
		}
	}
	return false
}

// peerOpened counts a new peer.
func peerOpened() {
	workers.mu.Lock()
	workers.peers++
	workers.mu.Unlock()
}

// peerEnded counts a peer's end; the last one ends the idle workers.
func peerEnded() {
	workers.mu.Lock()
	defer workers.mu.Unlock()
	if workers.peers--; workers.peers > 0 {
		return
	}
	for i, w := range workers.idle {
		close(w.next)
		workers.idle[i] = nil
	}
	workers.idle = workers.idle[:0]
}
