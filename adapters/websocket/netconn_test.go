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

// A link's slack is a tenth of its write timeout (50 ms at the least), so
// that a connection written to every few hundred milliseconds does not
// update its timer for each message; a write's deadline is still never
// earlier than asked, nor later than the slack.
func TestWriteDeadlineSlackFollowsTimeout(t *testing.T) {
	if got := slackFor(10 * time.Second); got != time.Second {
		t.Fatalf("slackFor(10s) = %v, want 1s", got)
	}
	if got := slackFor(100 * time.Millisecond); got != deadlineSlack {
		t.Fatalf("slackFor(100ms) = %v, want %v", got, deadlineSlack)
	}
	dc := &deadlineConn{}
	c := &netConn{Conn: dc, slack: slackFor(10 * time.Second)}
	t0 := time.Now().Add(10 * time.Second)
	_ = c.SetWriteDeadline(t0)
	_ = c.SetWriteDeadline(t0.Add(900 * time.Millisecond)) // a message 0.9 s later
	if len(dc.set) != 1 || !dc.set[0].Equal(t0.Add(time.Second)) {
		t.Fatalf("set %v, want only %v", dc.set, t0.Add(time.Second))
	}
	later := t0.Add(1100 * time.Millisecond)
	_ = c.SetWriteDeadline(later)
	if len(dc.set) != 2 || !dc.set[1].Equal(later.Add(time.Second)) {
		t.Fatalf("past the slack: set %v, want %v", dc.set, later.Add(time.Second))
	}
}
