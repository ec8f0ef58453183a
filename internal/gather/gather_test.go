package gather

import "testing"

// TestSent: a sender yields only while more messages were delivered than
// sent before it, and sends that no delivery preceded leave no debt.
func TestSent(t *testing.T) {
	var c Credit
	if c.Sent() > 0 {
		t.Fatal("a send with nothing delivered yields")
	}
	if c.Sent() > 0 {
		t.Fatal("a second send with nothing delivered yields")
	}
	c.Delivered() // the debt of the two sends above is not carried
	if c.Sent() > 0 {
		t.Fatal("one delivery, one send: nobody else is about to send, yet it yields")
	}
	c.Delivered()
	c.Delivered()
	c.Delivered()
	for i := range 2 {
		if c.Sent() == 0 {
			t.Fatalf("three deliveries: send %d does not yield", i+1)
		}
	}
	if c.Sent() > 0 {
		t.Fatal("the last of three answers yields")
	}
}

// TestAloneDropsStaleCredit: an answer to this side's own call, whose
// caller sends nothing after, leaves a credit; the first lone send after
// it yields for nobody, says so, and the sends after it do not yield.
func TestAloneDropsStaleCredit(t *testing.T) {
	var c Credit
	c.Sent()      // this side's call
	c.Delivered() // its answer: the caller sends nothing more
	for i := range 3 {
		c.Delivered() // a call from the other side
		others := c.Sent()
		if i == 0 && others != 1 {
			t.Fatalf("the stale credit makes the first answer expect %d others, want 1", others)
		}
		if i > 0 && others != 0 {
			t.Fatalf("answer %d still expects %d others after a yield nobody joined", i+1, others)
		}
		if others > 0 {
			c.Delivered() // a delivery during the yield keeps its credit
			c.Alone(others)
			if c.Sent() != 0 {
				t.Fatal("the delivery during the yield is not matched by a send")
			}
		}
	}
}

// TestAloneKeepsCreditUnderLoad: a writer that expected several others
// and saw none leaves the credit to them.
func TestAloneKeepsCreditUnderLoad(t *testing.T) {
	var c Credit
	for range 4 {
		c.Delivered()
	}
	others := c.Sent()
	if others != 3 {
		t.Fatalf("expects %d others, want 3", others)
	}
	c.Alone(others)
	for i := range 2 {
		if c.Sent() == 0 {
			t.Fatalf("send %d after an unjoined yield under load does not yield", i+1)
		}
	}
}

// TestSaturatedSchedulerStopsYields: after a yield that took long,
// senders stop yielding for a while.
func TestSaturatedSchedulerStopsYields(t *testing.T) {
	var c Credit
	c.Delivered()
	c.Delivered()
	c.noYieldUntil.Store(1 << 62) // as a slow Yield leaves it
	if c.Sent() > 0 {
		t.Fatal("yields while paused")
	}
	c.noYieldUntil.Store(1) // long past
	c.Delivered()
	if c.Sent() == 0 {
		t.Fatal("no yield once the pause is over")
	}
}
