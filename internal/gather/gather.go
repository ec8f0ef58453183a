// Package gather decides when a transport's writer should wait a moment
// for other senders, so that their messages share its system call.
//
// A message delivered to a peer usually wakes a goroutine that will send
// soon: a handler that answers, a caller that sends its next call. So a
// transport counts messages delivered minus messages sent (the credit);
// a writer that finds credit left yields the processor once before it
// writes, which lets those goroutines hand their messages over to go out
// with its own. With one call in flight the credit is zero at every send
// and nobody yields. A delivery that woke nobody who sends (the answer to
// a call after which its caller sends nothing) would leave a credit for
// ever: the writer whose yield nobody joins drops it. When the scheduler
// is saturated, a yield can take milliseconds, more than batching saves:
// then yielding stops for a while.
package gather

import (
	"runtime"
	"sync/atomic"
	"time"
)

const (
	// slowYield is how long a yield may take before the scheduler counts
	// as saturated; yielding then stops for pause.
	slowYield = 5 * time.Millisecond
	pause     = 20 * time.Millisecond
)

// Credit is the count of one link; the zero value is ready to use.
type Credit struct {
	credit atomic.Int64 // messages delivered minus messages sent
	// noYieldUntil is when yielding may resume (UnixNano; 0: now).
	noYieldUntil atomic.Int64
}

// Delivered counts a message handed to the peer.
func (c *Credit) Delivered() { c.credit.Add(1) }

// Sent counts a message about to be sent and returns how many other
// senders its writer may expect (deliveries not yet matched by a send):
// if more than zero, it should yield before writing, since goroutines
// woken by those deliveries may be about to send. It returns zero while
// yielding is paused.
func (c *Credit) Sent() (others int64) {
	others = c.credit.Add(-1)
	if others < 0 {
		c.credit.Store(0) // sends that no delivery preceded
		return 0
	}
	if others == 0 {
		return 0
	}
	if until := c.noYieldUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return 0
	}
	return others
}

// Alone tells c that a writer yielded, expecting others (what Sent
// returned), and no other sender came. If it expected one, that one
// delivery woke nobody who sends (an answer to one of this side's own
// calls whose caller sent nothing after, say), and its credit is
// dropped: kept, it would make every later lone send on the link yield
// for a sender that never comes (a client that called once at its start
// and then only answers would yield before every answer). A writer that
// expected more leaves the credit as it is: with many messages in
// flight, senders that are late are not absent, and the credit's balance
// is what gathers their writes.
func (c *Credit) Alone(others int64) {
	if others != 1 {
		return
	}
	for {
		v := c.credit.Load()
		if v <= 0 || c.credit.CompareAndSwap(v, v-1) {
			return
		}
	}
}

// Yield yields the processor once, and stops further yields for a while
// if that took long.
func (c *Credit) Yield() {
	start := time.Now()
	runtime.Gosched()
	if time.Since(start) > slowYield {
		c.noYieldUntil.Store(time.Now().Add(pause).UnixNano())
	}
}
