package websocket

import (
	"context"
	"sync/atomic"
	"time"
)

// Who reads the connection.
//
// gorilla allows one reader at a time, and a read cannot be interrupted
// without breaking the connection. A read loop goroutine reads most of the
// time: it delivers the other end's calls, and the answers to ours, which
// it hands to the waiting callers. That hand-off, a goroutine readied by
// another, is what a small round trip pays most for beyond the link
// itself: readying a goroutine on an idle machine wakes a second
// processor, tens of microseconds between processes. So, as a raw client
// that writes and then reads does, a caller waiting for its answer reads
// the connection itself when nobody else is (ReadFor): its answer then
// wakes it directly.
//
// The read loop leaves the reading to callers once it has delivered the
// answer to the last call awaited, twice in a row (so that a peer busy
// serving the other end's calls keeps its loop), with no more input read.
// Between calls nobody reads then; whoever calls next reads, and if nobody
// has within resumeAfter, a timer restarts the loop: a message the other
// end sends between calls, a call or a ping, waits that long at most.
// Close, and any other end of the link, restart the loop at once, which
// reports the end.
const (
	readLoop   int32 = iota // the read loop goroutine reads
	readCaller              // a caller reads (ReadFor)
	readNone                // nobody reads; the resume timer is armed
	readEnded               // the end has been reported: nobody reads again
)

// resumeAfter is how long a connection goes unread between calls before
// the read loop restarts. The timer is armed at most once per period, not
// per call (arming a timer can wake a sleeping thread), and fires whether
// or not callers read meanwhile; a shorter period costs sequential calls
// more: between two processes on the 2-core test machine, 1 ms cost
// about 0.2x the raw round trip, 20 ms about 0.05x.
const resumeAfter = 5 * time.Millisecond

// callerReads counts the times a caller took on the reading, for tests.
var callerReads atomic.Uint64

// frameSlack is how many bytes beyond a message's payload its last read
// may return without there being more input behind it: the frame header
// (at most 14 bytes), and a TLS record's overhead below that.
const frameSlack = 64

// InputPending reports whether more input came in with the message being
// delivered: the message was read from what an earlier read brought, or
// its last read brought more than its own frame. Without a netConn of ours
// to count reads, it says yes, which keeps calls on goroutines of their
// own.
func (t *conn) InputPending() bool { return t.pending }

// Fork goes on reading on a new goroutine while the delivery in progress
// runs on (see [rpc.Forker]).
func (t *conn) Fork() {
	t.ka.busy.Store(false) // reading resumes
	t.readState.Store(readLoop)
	go t.readLoop(t.reader.Add(1))
}

// Idle records the peer's word that the delivery in hand answered the
// last call it awaits (see [rpc.CallerReader]).
func (t *conn) Idle() { t.idle.Store(true) }

// ReadFor reads and delivers messages on the caller's goroutine until
// done reports true, if nobody else is reading (see [rpc.CallerReader]).
// If ctx ends first, the netConn cuts the caller's read short (see
// interrupt.go) and the read loop takes the reading back; where it cannot
// (wss://, a proxy), a call whose context can end waits for the read loop
// instead, which it restarts if need be.
func (t *conn) ReadFor(ctx context.Context, done func() bool) bool {
	cancellable := ctx.Done() != nil
	if t.nc == nil || cancellable && !t.nc.framed {
		t.wakeReader()
		return false
	}
	if !t.readState.CompareAndSwap(readNone, readCaller) {
		return false
	}
	callerReads.Add(1)
	var gen uint64
	if cancellable {
		gen = t.nc.arm()
		stop := context.AfterFunc(ctx, func() { t.nc.interrupt(gen) })
		defer stop()
	}
	if done() { // answered before we took over
		t.disarm(gen)
		t.pause()
		return true
	}
	n := t.reader.Add(1)
	for {
		msg, err := t.next()
		switch {
		case err == errInterrupted:
			// Made up by an interrupt: ours, or a caller's before us.
		case msg == nil:
			// The caller learns of the end from the peer, which the
			// report fails every pending call to.
			t.disarm(gen)
			go t.finish(err)
			return false
		case !t.deliver(msg, n):
			t.disarm(gen)
			return false // forked: the new read loop reads on
		case done():
			t.disarm(gen)
			if t.idle.Swap(false) && !t.pending {
				t.pause()
			} else {
				// Other calls await answers, or more input is here.
				t.readState.Store(readLoop)
				go t.readLoop(t.reader.Add(1))
			}
			return true
		}
		if ctx.Err() != nil {
			// The caller gives up; the read loop reads on.
			t.disarm(gen)
			t.idle.Store(false)
			t.readState.Store(readLoop)
			go t.readLoop(t.reader.Add(1))
			return false
		}
		t.yieldIfWoken()
	}
}

// disarm ends the interruptible reading of caller gen, if it had one,
// before the reading passes on.
func (t *conn) disarm(gen uint64) {
	if gen != 0 {
		t.nc.disarm(gen)
	}
}

// readLoop delivers messages, as reading goroutine number n, until the
// link ends or the reading passes to callers (see pause). If Fork is
// called during a delivery, the loop returns after it, the new goroutine
// reading on.
func (t *conn) readLoop(n uint64) {
	lastIdle := true
	for {
		msg, err := t.next()
		if err == errInterrupted {
			continue // made up to interrupt a caller that has left since
		}
		if msg == nil {
			t.finish(err)
			return
		}
		if !t.deliver(msg, n) {
			return
		}
		idle := t.idle.Swap(false)
		if idle && lastIdle && !t.pending && t.nc != nil {
			t.pause()
			return
		}
		lastIdle = idle
		t.yieldIfWoken()
	}
}

// next reads the next message to deliver. A nil message means the link
// has ended, err saying why (nil if it is closing), or, with err
// errInterrupted, that the netConn made the message up to interrupt a
// reading caller.
func (t *conn) next() ([]byte, error) {
	var reads uint64
	if t.nc != nil {
		reads = t.nc.reads
	}
	_, r, err := t.ws.NextReader()
	if err != nil {
		return nil, err
	}
	t.messages++
	msg, err := readMessage(r)
	if err != nil {
		return nil, err
	}
	if t.nc != nil && t.messages == t.nc.synthetic {
		return nil, errInterrupted
	}
	t.pending = t.nc == nil || t.nc.reads == reads || t.nc.lastRead > len(msg)+frameSlack
	if t.isDone() {
		return nil, nil // closing: deliver nothing more
	}
	return msg, nil
}

// deliver hands msg to the peer, as reading goroutine number n, and
// reports whether that goroutine still owns the reading (no Fork).
func (t *conn) deliver(msg []byte, n uint64) bool {
	t.ka.seen.Store(true)
	t.credit.Add(1)
	// While the peer holds the message (backpressure), nothing is read,
	// pongs included: the keepalive must not count that as silence.
	t.ka.busy.Store(true)
	t.in.OnMessage(msg)
	if t.reader.Load() != n {
		return false // the new goroutine owns the reading state
	}
	t.ka.busy.Store(false)
	return true
}

// yieldIfWoken makes the next read yield the processor first if the
// delivery just made woke a goroutine that may be about to send (a caller
// handed its answer, a handler started): it then runs at once, instead of
// after this read, which usually finds nothing and parks.
func (t *conn) yieldIfWoken() {
	if t.nc != nil && t.credit.Load() > 0 {
		t.nc.yieldNext = true
	}
}

// finish reports the end of the link, exactly once, after the last
// delivery, and finally lets the other end finish the closing handshake
// (see teardown).
func (t *conn) finish(err error) {
	t.readState.Store(readEnded)
	t.end(readError(err, t.limit), false) // no-op if the end began elsewhere
	t.stopKeepalive()
	t.in.OnClose(t.cause)
	if t.onEnd != nil {
		t.onEnd()
	}
	t.teardown()
}

// pause leaves the reading to the next caller, the resume timer standing
// in for it. Only the goroutine that reads calls it.
func (t *conn) pause() {
	t.readState.Store(readNone)
	if t.isDone() {
		t.wakeReader() // the end began meanwhile: report it
		return
	}
	if t.resumeArmed.Swap(true) {
		return // armed already: it fires within resumeAfter
	}
	if tm := t.resume.Load(); tm != nil {
		tm.Reset(resumeAfter)
	} else {
		t.resume.Store(time.AfterFunc(resumeAfter, t.resumeReading))
	}
}

// resumeReading is the resume timer's function: it becomes the read loop
// if nobody reads.
func (t *conn) resumeReading() {
	t.resumeArmed.Store(false)
	if t.readState.CompareAndSwap(readNone, readLoop) {
		t.readLoop(t.reader.Add(1))
	}
}

// wakeReader restarts the read loop if nobody reads, so that the end of
// the link is seen and reported.
func (t *conn) wakeReader() {
	if t.readState.CompareAndSwap(readNone, readLoop) {
		go t.readLoop(t.reader.Add(1)) // the resume timer, if armed, finds it reading
	}
}
