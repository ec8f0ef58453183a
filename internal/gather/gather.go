// Package gather decides when a transport's writer should wait a moment
// for other senders, so that their messages share its system call.
//
// A message delivered to a peer usually wakes a goroutine that will send
// soon: a handler that answers, a caller that sends its next call. So a
// transport counts messages delivered minus messages sent (the credit);
// a writer that finds credit left yields the processor once before it
// writes, which lets those goroutines hand their messages over to go out
// with its own. With one call in flight the credit is zero at every send
// and nobody yields. When the scheduler is saturated, a yield can take
// milliseconds, more than batching saves: then yielding stops for a
// while.
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

// Sent counts a message about to be sent and reports whether its writer
// should yield before writing: goroutines woken by earlier deliveries may
// be about to send.
func (c *Credit) Sent() bool {
	expected := c.credit.Add(-1)
	if expected < 0 {
		c.credit.Store(0) // sends that no delivery preceded
		return false
	}
	if expected == 0 {
		return false
	}
	until := c.noYieldUntil.Load()
	return until == 0 || time.Now().UnixNano() >= until
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
