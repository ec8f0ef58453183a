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
// behind the current one or about to send, so that under load many
// messages share a syscall instead of paying one each; a lone sender
// writes at once. See conn.Send for who flushes.
type netConn struct {
	net.Conn

	mu   sync.Mutex // held across a write: see hasBuf
	cork bool
	buf  *[]byte // buffered bytes; nil when empty

	// hasBuf mirrors buf != nil, readable without mu, which a write that
	// makes no progress holds until its deadline: a sender giving up must
	// not wait for that.
	hasBuf atomic.Bool

	// yieldNext asks the next Read to yield first. Whoever reads sets it
	// after delivering a message that woke a goroutine; one reads at a time.
	yieldNext bool
	// wdl is the write deadline in force, as UnixNano (0: none); see
	// SetWriteDeadline.
	wdl atomic.Int64

	// reads counts Reads; lastRead is what the last one returned. The read
	// loop uses them to tell whether more input came in with a message.
	reads    uint64
	lastRead int

	// Interrupting a reading caller (see interrupt.go). fr, synthLeft and
	// synthetic belong to whoever reads; framed and server are set before
	// reading starts.
	framed    bool // made-up messages may be handed to gorilla
	server    bool // the stream is a client's: its frames are masked
	fr        frameTracker
	synthLeft []byte // the rest of a made-up message, for the next Read
	synthetic uint64 // the number of the last made-up message (frameTracker.messages)
	intr      struct {
		sync.Mutex
		gen, armed   uint64    // arm's last number; the armed caller's, or 0
		wanted       bool      // an interrupt is to be carried out
		deadlineOurs bool      // the read deadline in force is an interrupt's
		deadline     time.Time // the read deadline others set
	}
}

// maxCorked bounds the bytes held back; past it a write goes out at once.
const maxCorked = 64 << 10

var corkBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

// newNetConn wraps c: the accepting end's connection (server), above any
// TLS, or the dialing end's, whose stream starts with the handshake's HTTP
// response and which the dialer marks framed once it knows that no TLS or
// proxy exchange lies between it and gorilla.
func newNetConn(c net.Conn, server bool) *netConn {
	nc := &netConn{Conn: c, server: server, framed: server}
	nc.fr.inHTTP = !server
	return nc
}

// Read reads from the connection. After a message was delivered, it first
// yields the processor: the goroutine the message woke (a handler, a
// caller waiting for its answer) then runs at once, instead of after this
// read, which usually finds nothing and parks. That takes a system call
// off the round trip; it happens only when gorilla's read buffer is
// empty, not between messages that arrived together.
//
// It also carries out interrupts (see interrupt.go): a made-up message
// instead of input, and the interrupt's deadline passing unreported.
func (c *netConn) Read(p []byte) (int, error) {
	if c.yieldNext {
		c.yieldNext = false
		runtime.Gosched()
	}
	for {
		if len(c.synthLeft) == 0 && c.takeInterrupt() {
			c.inject()
		}
		if len(c.synthLeft) > 0 {
			n := copy(p, c.synthLeft)
			c.synthLeft = c.synthLeft[n:]
			return n, nil
		}
		n, err := c.Conn.Read(p)
		c.reads++
		c.lastRead = n
		c.fr.feed(p[:n])
		if n == 0 && err != nil && c.interruptedRead(err) {
			continue
		}
		return n, err
	}
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

// deadlineSlack is how much later than asked a write deadline may be.
const deadlineSlack = 50 * time.Millisecond

// SetWriteDeadline sets the write deadline, sparingly. gorilla sets one
// before every frame it writes, each a timer update in the runtime, though
// it moves by microseconds; so a deadline is set deadlineSlack later than
// asked, and a request that falls within that margin of the deadline in
// force is let go. A write's deadline is then never earlier than asked,
// and at most deadlineSlack later. A deadline earlier than that (Close
// cutting a stuck write short) or none is set as it is.
func (c *netConn) SetWriteDeadline(t time.Time) error {
	if t.IsZero() {
		c.wdl.Store(0)
		return c.Conn.SetWriteDeadline(t)
	}
	want, cur := t.UnixNano(), c.wdl.Load()
	if cur != 0 && want <= cur && cur-want <= int64(deadlineSlack) {
		return nil
	}
	if want > cur {
		t = t.Add(deadlineSlack)
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
	h.nc = newNetConn(c, true)
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
		nc := newNetConn(c, false)
		*slot = nc
		return nc, nil
	}
}
