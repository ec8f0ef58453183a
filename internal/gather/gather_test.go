package gather

import "testing"

// TestSent: a sender yields only while more messages were delivered than
// sent before it, and sends that no delivery preceded leave no debt.
func TestSent(t *testing.T) {
	var c Credit
	if c.Sent() {
		t.Fatal("a send with nothing delivered yields")
	}
	if c.Sent() {
		t.Fatal("a second send with nothing delivered yields")
	}
	c.Delivered() // the debt of the two sends above is not carried
	if c.Sent() {
		t.Fatal("one delivery, one send: nobody else is about to send, yet it yields")
	}
	c.Delivered()
	c.Delivered()
	c.Delivered()
	for i := range 2 {
		if !c.Sent() {
			t.Fatalf("three deliveries: send %d does not yield", i+1)
		}
	}
	if c.Sent() {
		t.Fatal("the last of three answers yields")
	}
}

// TestSaturatedSchedulerStopsYields: after a yield that took long,
// senders stop yielding for a while.
func TestSaturatedSchedulerStopsYields(t *testing.T) {
	var c Credit
	c.Delivered()
	c.Delivered()
	c.noYieldUntil.Store(1 << 62) // as a slow Yield leaves it
	if c.Sent() {
		t.Fatal("yields while paused")
	}
	c.noYieldUntil.Store(1) // long past
	c.Delivered()
	if !c.Sent() {
		t.Fatal("no yield once the pause is over")
	}
}
