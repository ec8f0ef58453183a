package websocket

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// netConn is the network connection under a gorilla connection. It
// coalesces writes: while it is corked, the frames gorilla writes are
// buffered instead of sent, and the next uncorked write or flush sends
// them all in one system call. Send corks it when other senders are queued
// behind the current one, so that under load many messages share a
// syscall instead of paying one each; a lone sender writes at once. See
// conn.Send for who flushes.
type netConn struct {
	net.Conn

	mu   sync.Mutex // held across a write: see hasBuf
	cork bool
	buf  *[]byte // buffered bytes; nil when empty

	// hasBuf mirrors buf != nil, readable without mu, which a write that
	// makes no progress holds until its deadline: a sender giving up must
	// not wait for that.
	hasBuf atomic.Bool

	// delivered is set by the read loop after it hands a message to the
	// peer; the next Read yields first (see Read). Read loop only.
	delivered bool

	// wdl is the write deadline in force, as UnixNano (0: none), and
	// slack how much later than asked it may be (0: deadlineSlack); see
	// SetWriteDeadline. slack is set once, before the link starts.
	wdl   atomic.Int64
	slack time.Duration
}

// maxCorked bounds the bytes held back; past it a write goes out at once.
const maxCorked = 64 << 10

var corkBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

// Read reads from the connection. After a message was delivered it first
// yields the processor, once: the goroutine that delivery readied (a
// handler, a caller given its answer) then runs at once on this
// processor, instead of after this read, which usually finds nothing and
// parks. It only happens when gorilla's buffer is empty, so messages that
// arrived together are not held up; and the read itself is never delayed
// past the yield.
func (c *netConn) Read(p []byte) (int, error) {
	if c.delivered {
		c.delivered = false
		runtime.Gosched()
	}
	return c.Conn.Read(p)
}

// Write buffers p while corked, or sends what is buffered and p together.
func (c *netConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		if c.cork && len(p) <= maxCorked {
			c.buf = corkBufs.Get().(*[]byte)
			*c.buf = append(*c.buf, p...)
			c.hasBuf.Store(true)
			return len(p), nil
		}
		return c.Conn.Write(p)
	}
	if c.cork && len(*c.buf)+len(p) <= maxCorked {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	held := len(*c.buf)
	bufs := net.Buffers{*c.buf, p} // writev on TCP connections
	n, err := bufs.WriteTo(c.Conn)
	c.release()
	return max(0, int(n)-held), err
}

// deadlineSlack is how much later than asked a write deadline may be, at
// the least; see slackFor.
const deadlineSlack = 50 * time.Millisecond

// slackFor is the slack of a connection whose writes have the given
// timeout: a tenth of it, so that a connection written to every few
// hundred milliseconds (a subscriber of a busy topic) does not update its
// timer for every message either, and a stuck write is still dropped
// within 1.1 times the timeout.
func slackFor(writeTimeout time.Duration) time.Duration {
	return max(deadlineSlack, writeTimeout/10)
}

// SetWriteDeadline sets the write deadline, sparingly. gorilla sets one
// before every frame it writes, each a timer update in the runtime, though
// it moves by microseconds; so a deadline is set the connection's slack
// later than asked, and a request that falls within that margin of the
// deadline in force is let go. A write's deadline is then never earlier
// than asked, and at most the slack later. A deadline earlier than that
// (Close cutting a stuck write short) or none is set as it is.
func (c *netConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		c.wdl.Store(0)
		return c.Conn.SetWriteDeadline(t)
	}
	slack := c.slack
	if slack == 0 {
		slack = deadlineSlack // the handshake, before the link's settings apply
	}
	want, cur := t.UnixNano(), c.wdl.Load()
	if cur != 0 && want <= cur && cur-want <= int64(slack) {
		return nil
	}
	if want > cur {
		t = t.Add(slack)
	}
	c.wdl.Store(t.UnixNano())
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines, the write one through SetWriteDeadline's
// record.
func (c *netConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *netConn) setCork(on bool) {
	c.mu.Lock()
	c.cork = on
	c.mu.Unlock()
}

// buffered reports whether bytes are held back.
func (c *netConn) buffered() bool { return c.hasBuf.Load() }

// flush sends the bytes held back, within timeout (none if <= 0).
func (c *netConn) flush(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	if timeout > 0 {
		_ = c.SetWriteDeadline(time.Now().Add(timeout))
	}
	_, err := c.Conn.Write(*c.buf)
	c.release()
	return err
}

func (c *netConn) release() {
	b := c.buf
	c.buf = nil
	c.hasBuf.Store(false)
	if cap(*b) <= maxCorked {
		*b = (*b)[:0]
		corkBufs.Put(b)
	}
}

// CloseWrite sends what is held back and shuts down the writing side, if
// the connection can.
func (c *netConn) CloseWrite() error {
	_ = c.flush(closeFrameTimeout)
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// hijacker hands gorilla's Upgrade a connection wrapped in a netConn, and
// keeps it for the transport. It also finds a Hijacker behind middleware
// that wraps the ResponseWriter with an Unwrap method.
type hijacker struct {
	http.ResponseWriter
	nc *netConn
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.nc = &netConn{Conn: c}
	return h.nc, brw, nil
}

// dialFunc is the type of gorilla's Dialer.NetDialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// wrapDial returns f with its connections wrapped in a netConn, which it
// stores in *slot.
func wrapDial(f dialFunc, slot **netConn) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := f(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		nc := &netConn{Conn: c}
		*slot = nc
		return nc, nil
	}
}
