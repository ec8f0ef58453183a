package websocket

import (
	"net"
	"testing"
	"time"
)

// deadlineConn records the write deadlines set on it.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

// A write deadline is set a little later than asked, so that the next
// requests, microseconds later, need no update; it is never earlier than
// asked, and one asked earlier (Close cutting a write short) or none is
// set as it is.
func TestWriteDeadlineSetSparingly(t *testing.T) {
	dc := &deadlineConn{}
	c := &netConn{Conn: dc}
	t0 := time.Now().Add(10 * time.Second)
	ask := func(t time.Time) { _ = c.SetWriteDeadline(t) }

	ask(t0)
	for i := range 100 {
		ask(t0.Add(time.Duration(i) * 100 * time.Microsecond)) // within the slack
	}
	if len(dc.set) != 1 || !dc.set[0].Equal(t0.Add(deadlineSlack)) {
		t.Fatalf("set %v, want only %v", dc.set, t0.Add(deadlineSlack))
	}
	later := t0.Add(deadlineSlack + time.Millisecond)
	ask(later)
	if got := dc.set[len(dc.set)-1]; len(dc.set) != 2 || !got.Equal(later.Add(deadlineSlack)) {
		t.Fatalf("past the slack: set %v, want %v", dc.set, later.Add(deadlineSlack))
	}
	now := time.Now()
	ask(now)
	if got := dc.set[len(dc.set)-1]; len(dc.set) != 3 || !got.Equal(now) {
		t.Fatalf("an earlier deadline: set %v, want %v", dc.set, now)
	}
	ask(time.Time{})
	ask(t0)
	if len(dc.set) != 5 || !dc.set[3].IsZero() || !dc.set[4].Equal(t0.Add(deadlineSlack)) {
		t.Fatalf("none, then one again: set %v", dc.set)
	}
}
