package rpc

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Running handlers on the reading goroutine.
//
// Handing a call to a goroutine of its own costs more than anything else a
// small call does beyond the link itself: on an idle multi-core machine,
// readying a goroutine wakes a second processor. So over a transport that
// can fork its reading ([Forker]), a call's handler runs on the goroutine
// that delivered it, as a raw echo server answers from its read loop, and
// the reading moves to a new goroutine only once the handler turns out to
// block. That is learned three ways:
//
//   - the handler calls its own peer with its context: the answer must be
//     read, so the reading forks at once;
//   - Close is called: the transport must be free to report its end;
//   - the watchdog, which looks every forkAfter at the peers running a
//     handler this way, finds the same handler running at two looks in a
//     row.
//
// After a fork the peer's calls get goroutines of their own for spawnFor:
// its handlers have been seen to block, and a fork by the watchdog has
// held up reading for a tick or two.

const (
	// forkAfter is the watchdog's period: a handler still running on the
	// reading goroutine after one to two periods has the reading forked
	// away from it.
	forkAfter = time.Millisecond
	// spawnFor is how long after a fork a peer's calls run on goroutines
	// of their own.
	spawnFor = time.Second
)

// runState records the handler running on a peer's reading goroutine.
type runState struct {
	mu      sync.Mutex
	running bool   // a handler runs on the reading goroutine
	seq     uint64 // counts those runs
	seen    uint64 // seq at the watchdog's last look
	watched bool   // on the watchdog's list

	active     atomic.Bool  // mirrors running, for a check without mu
	spawnUntil atomic.Int64 // UnixNano until which calls get goroutines; 0: no such time
}

// runKey marks the contexts of handlers run on the reading goroutine; its
// value is the peer.
type runKey struct{}

// runHere reports whether the call about to be served can run on the
// reading goroutine: the transport can fork, no other input waits behind
// it, that goroutine is not (or may not be) a caller's reading for its
// answer, and no handler of the peer's was seen to block lately.
func (p *Peer) runHere() bool {
	if p.forker == nil || p.forker.InputPending() || p.readingCallers.Load() != 0 {
		return false
	}
	if until := p.run.spawnUntil.Load(); until != 0 {
		if time.Now().UnixNano() < until {
			return false
		}
		p.run.spawnUntil.CompareAndSwap(until, 0)
	}
	return true
}

// serveHere runs a call's handler on the reading goroutine, and answers.
func (p *Peer) serveHere(call *servedCall) {
	r := &p.run
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.running = true
	r.active.Store(true)
	watch := !r.watched
	r.watched = true
	r.mu.Unlock()
	if watch {
		watchdog.add(p)
	}

	p.serve(call, nil)

	r.mu.Lock()
	if r.running && r.seq == seq { // else the reading was forked away
		r.running = false
		r.active.Store(false)
	}
	r.mu.Unlock()
}

// forkRunning moves the reading away from the handler running on it, if
// any, so that reading goes on while that handler waits.
func (p *Peer) forkRunning() {
	if p.forker == nil || !p.run.active.Load() {
		return
	}
	p.run.mu.Lock()
	p.forkLocked()
	p.run.mu.Unlock()
}

// forkLocked forks the reading if a handler runs on it; p.run.mu is held,
// which keeps that handler's goroutine inside the transport's OnMessage
// until Fork has returned.
func (p *Peer) forkLocked() {
	r := &p.run
	if !r.running {
		return
	}
	r.running = false
	r.active.Store(false)
	r.spawnUntil.Store(time.Now().Add(spawnFor).UnixNano())
	p.forker.Fork()
}

// forkForCall forks the reading before a call waits for its answer, if the
// call comes from the handler running on the reading goroutine: nothing
// else could read the answer.
func (p *Peer) forkForCall(ctx context.Context) {
	if p.run.active.Load() && ctx.Value(runKey{}) == p {
		p.forkRunning()
	}
}

// watchdog keeps the peers that have run a handler on their reading
// goroutine lately, and forks those whose handler runs for long. Its
// goroutine runs only while some peer is on its list.
var watchdog watchList

type watchList struct {
	mu      sync.Mutex
	peers   []*Peer
	running bool
}

// add puts p on the list, starting the watchdog's goroutine if need be.
func (w *watchList) add(p *Peer) {
	w.mu.Lock()
	w.peers = append(w.peers, p)
	start := !w.running
	w.running = true
	w.mu.Unlock()
	if start {
		go w.loop()
	}
}

// loop looks at the listed peers every forkAfter, and ends once none is
// left.
func (w *watchList) loop() {
	for {
		time.Sleep(forkAfter)
		w.mu.Lock()
		list := w.peers
		w.peers = nil
		w.mu.Unlock()

		keep := list[:0]
		for _, p := range list {
			if p.watchTick() {
				keep = append(keep, p)
			}
		}
		clear(list[len(keep):])

		w.mu.Lock()
		w.peers = append(keep, w.peers...)
		if len(w.peers) == 0 {
			w.running = false
			w.peers = nil
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// watchTick is the watchdog's look at p. It forks the reading from a
// handler that has run since the last look, and reports whether p stays
// on the list: a peer that ran no handler since then leaves it.
func (p *Peer) watchTick() bool {
	r := &p.run
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seq == r.seen {
		if r.running {
			p.forkLocked()
			return true
		}
		r.watched = false
		return false
	}
	r.seen = r.seq
	return true
}
