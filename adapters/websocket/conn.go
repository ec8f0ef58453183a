package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/gather"
	"github.com/parleyrpc/parley/rpc"
)

// Defaults for the link settings of [ServerOptions] and [DialOptions].
const (
	// DefaultPingInterval is how often a ping is sent when the options say
	// zero. A link from which nothing has been read for two intervals is
	// dropped with [ErrKeepaliveTimeout].
	DefaultPingInterval = 30 * time.Second
	// DefaultWriteTimeout bounds each write when the options say zero.
	DefaultWriteTimeout = 10 * time.Second
)

const (
	// closeFrameTimeout bounds how long Close tries to send the close
	// frame before it closes the connection anyway.
	closeFrameTimeout = 250 * time.Millisecond
	// closeGrace bounds how long a closed connection waits for the other
	// end to finish the closing handshake, in the background.
	closeGrace = time.Second
	// controlTimeout bounds pong and close-frame writes when data writes
	// have no timeout.
	controlTimeout = 10 * time.Second
)

// link holds the settings of one connection.
type link struct {
	pingInterval time.Duration // <= 0: no pings
	writeTimeout time.Duration // <= 0: writes have no deadline
}

// linkSettings applies the defaults: zero means the default, a negative
// value turns the feature off.
func linkSettings(ping, write time.Duration) link {
	if ping == 0 {
		ping = DefaultPingInterval
	}
	if write == 0 {
		write = DefaultWriteTimeout
	}
	return link{pingInterval: ping, writeTimeout: write}
}

// conn is the [rpc.Transport] over one gorilla connection.
//
// Reads: one goroutine, started by Start, reads whole messages and hands
// each to the peer as it arrives; gorilla handles pings and pongs there.
// It never stops reading until the link ends, except while the peer holds
// a message (backpressure). Writes: from the sender's goroutine, under a
// lock that is a 1-buffered channel, so that waiting for it honours the
// sender's context (gorilla allows one writer at a time); senders queued
// behind one another share system calls (see Send). Keepalive: a timer,
// no goroutine of its own.
type conn struct {
	ws    *websocket.Conn
	nc    *netConn // under ws (below TLS, if any); nil if not ours
	frame int      // frame type of outbound messages: text for JSON, binary for CBOR
	link

	wmu     chan struct{} // the write lock
	waiting atomic.Int32  // senders waiting for or holding the write lock
	written atomic.Uint64 // messages written (or corked) so far
	// gather says when a lone sender should yield first, so that the
	// goroutines inbound messages woke can join its write; see Send.
	gather gather.Credit

	once  sync.Once     // ends the link once
	done  chan struct{} // closed when the link is ending
	cause error         // why; set before done is closed

	ka      keepalive
	started atomic.Bool // Start has run: the read loop owns the teardown

	// peer is the Peer over this conn and onEnd unregisters it from its
	// Server; both are nil on the client side. peer is guarded by the
	// Server's mutex.
	peer  *rpc.Peer
	onEnd func()
}

var _ rpc.Transport = (*conn)(nil)

func newConn(ws *websocket.Conn, nc *netConn, c codec.Codec, l link) *conn {
	t := &conn{
		ws:    ws,
		nc:    nc,
		frame: websocket.TextMessage,
		link:  l,
		wmu:   make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	if c.Binary() {
		t.frame = websocket.BinaryMessage
	}
	if nc != nil {
		nc.slack = slackFor(l.writeTimeout)
	}
	t.ka.interval = l.pingInterval
	ws.SetPongHandler(func(string) error {
		t.ka.seen.Store(true)
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		t.ka.seen.Store(true)
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(t.controlTimeout()))
		if err == nil || errors.Is(err, websocket.ErrCloseSent) || isTimeout(err) {
			return nil // a broken link shows up on the read side
		}
		return err
	})
	return t
}

func (t *conn) controlTimeout() time.Duration {
	if t.writeTimeout > 0 {
		return t.writeTimeout
	}
	return controlTimeout
}

// Start sets the read limit from the peer's maximum message size and
// starts the read loop and the keepalive timer.
func (t *conn) Start(in rpc.Inbound) {
	limit := in.MaxMessageSize()
	t.ws.SetReadLimit(int64(limit))
	t.started.Store(true)
	t.startKeepalive()
	go t.readLoop(in, limit)
}

// readLoop hands each message to the peer until the link ends, then
// reports the end, exactly once, after the last delivery, and lets the
// other end finish the closing handshake (see teardown).
func (t *conn) readLoop(in rpc.Inbound, limit int) {
	var err error
	for {
		var r io.Reader
		if _, r, err = t.ws.NextReader(); err != nil {
			break
		}
		var msg []byte
		if msg, err = readMessage(r); err != nil {
			break
		}
		if t.isDone() {
			break // closing: deliver nothing more
		}
		t.ka.seen.Store(true)
		t.gather.Delivered()
		// While the peer holds the message (backpressure), nothing is
		// read, pongs included: the keepalive must not count that as
		// silence.
		t.ka.busy.Store(true)
		in.OnMessage(msg)
		t.ka.busy.Store(false)
		if t.nc != nil {
			t.nc.delivered = true
		}
	}
	t.end(readError(err, limit), false) // no-op if the end began elsewhere
	t.stopKeepalive()
	// The Server forgets the connection before the peer reports its end,
	// so that once the peer has ended (Server.Close waits for that), the
	// Server counts it no more.
	if t.onEnd != nil {
		t.onEnd()
	}
	in.OnClose(t.cause)
	t.teardown()
}

// teardown closes the network connection gracefully. Closing a socket
// with unread data in it makes TCP send a reset, which can destroy the
// close frame just sent (a 1009 for an oversize message, say) before the
// other end reads it. So: stop writing (FIN after the close frame), read
// and discard until the other end closes too or closeGrace passes, then
// close. On a connection already closed this returns at once.
func (t *conn) teardown() {
	if t.nc != nil {
		_ = t.nc.flush(closeFrameTimeout)
	}
	nc := t.ws.NetConn()
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	if nc.SetReadDeadline(time.Now().Add(closeGrace)) == nil {
		_, _ = io.Copy(io.Discard, nc)
	}
	_ = t.ws.Close()
}

func (t *conn) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// Send writes msg as one frame: text for a text codec, binary for a binary
// one. Waiting for the write lock ends with ctx; the write itself is
// bounded by the write timeout, past which the link is dropped.
//
// Write coalescing: when other senders are queued behind this one (many
// calls in flight, many handlers answering), or are about to send (more
// messages were delivered than sent since: the goroutines they woke will
// answer), the frame is left in the netConn's bounded buffer for the next
// of them to send along with its own, and the last sender of the burst
// sends them all, in one system call; the last one yields the processor
// once first, so that those about to send can join. A sender with nobody
// behind it writes at once. A sender that gives up waiting, or finds the
// link ended, flushes for the others if it was the last one queued
// (flushIfIdle).
func (t *conn) Send(ctx context.Context, msg []byte) error {
	t.waiting.Add(1)
	select {
	case t.wmu <- struct{}{}:
	default:
		select {
		case t.wmu <- struct{}{}:
		case <-ctx.Done():
			t.leave()
			return ctx.Err()
		case <-t.done:
			t.leave()
			return t.notSent()
		}
	}
	queued := t.waiting.Add(-1)
	if t.isDone() {
		<-t.wmu
		t.flushIfIdle()
		return t.notSent()
	}
	others := t.gather.Sent()
	yield := others > 0
	cork := t.nc != nil && (queued > 0 || yield)
	if cork {
		t.nc.setCork(true)
	}
	if t.writeTimeout > 0 {
		_ = t.ws.SetWriteDeadline(time.Now().Add(t.writeTimeout))
	}
	err := t.ws.WriteMessage(t.frame, msg)
	if cork {
		t.nc.setCork(false)
	}
	written := t.written.Add(1)
	<-t.wmu
	if err != nil {
		return t.writeFailed(err)
	}
	if cork && t.waiting.Load() == 0 {
		if yield {
			t.gather.Yield()
			if t.waiting.Load() != 0 {
				return nil // a later sender flushes
			}
			if t.written.Load() == written {
				t.gather.Alone(others) // nobody came
			}
		}
		t.flushIfIdle()
	}
	return nil
}

// leave is how a sender that never got the write lock leaves the queue.
func (t *conn) leave() {
	if t.waiting.Add(-1) == 0 {
		t.flushIfIdle()
	}
}

// flushIfIdle sends frames left buffered when nobody is queued to send
// them. Whoever holds the write lock at the time will check again after
// releasing it, so a failed attempt here leaves nothing behind.
func (t *conn) flushIfIdle() {
	if t.nc == nil || t.waiting.Load() != 0 || !t.nc.buffered() {
		return
	}
	select {
	case t.wmu <- struct{}{}:
	default:
		return
	}
	err := t.nc.flush(t.writeTimeout)
	<-t.wmu
	if err != nil {
		_ = t.writeFailed(err)
	}
}

// notSent is Send's error once the link has ended before the write began.
func (t *conn) notSent() error {
	return fmt.Errorf("%w: %w: %w", errNotSent, rpc.ErrConnectionLost, t.cause)
}

// writeFailed ends the link after a failed write (gorilla's write errors
// are permanent) and returns Send's error.
func (t *conn) writeFailed(err error) error {
	if errors.Is(err, websocket.ErrCloseSent) {
		// The read loop has answered the other end's close frame (gorilla
		// does so while reading) and is about to report why the link ended,
		// a 1009 for an oversize message of ours, say: that says more.
		timer := time.NewTimer(closeFrameTimeout)
		select {
		case <-t.done:
		case <-timer.C:
			t.end(fmt.Errorf("websocket: write failed: %w", err), true)
		}
		timer.Stop()
		return fmt.Errorf("%w: %w", rpc.ErrConnectionLost, t.cause)
	}
	if isTimeout(err) {
		err = fmt.Errorf("%w (a write made no progress for %v)", ErrWriteTimeout, t.writeTimeout)
	} else {
		err = fmt.Errorf("websocket: write failed: %w", err)
	}
	t.end(err, true)
	return fmt.Errorf("%w: %w", rpc.ErrConnectionLost, t.cause)
}

// end records why the link ends, once. With kill it also closes the
// network connection at once, which ends the read loop: for links that are
// broken (a write failed, the keepalive gave up) there is no closing
// handshake to wait for.
func (t *conn) end(cause error, kill bool) {
	t.once.Do(func() {
		t.cause = cause
		close(t.done)
	})
	if kill {
		_ = t.ws.Close()
	}
}

// Close sends a close frame (best effort, briefly) and wakes the read
// loop, which reports the end at once; the closing handshake then
// finishes in the background (see teardown). Close does not wait for the
// other end.
func (t *conn) Close() error {
	first := false
	t.once.Do(func() {
		t.cause = errLocalClose
		close(t.done)
		first = true
	})
	if !first {
		return nil
	}
	t.stopKeepalive()
	// A write stuck in the kernel (a client that stopped reading) holds the
	// write locks until its deadline: cut that short, so that Close waits
	// closeFrameTimeout at most.
	_ = t.ws.NetConn().SetWriteDeadline(time.Now().Add(closeFrameTimeout))
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = t.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeFrameTimeout))
	if t.nc != nil {
		_ = t.nc.flush(closeFrameTimeout) // the close frame may have been corked
	}
	_ = t.ws.SetReadDeadline(time.Now()) // wakes the read loop, which reports the end
	if !t.started.Load() {
		_ = t.ws.Close() // no read loop to do it
	}
	return nil
}

// readBufs holds scratch buffers for reading messages of unknown size;
// each message is then copied into a slice of its exact size, which is
// handed to the peer (io.ReadAll would hand over its larger buffer).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

func readMessage(r io.Reader) ([]byte, error) {
	bp := readBufs.Get().(*[]byte)
	buf := bytes.NewBuffer((*bp)[:0])
	_, err := buf.ReadFrom(r)
	msg := bytes.Clone(buf.Bytes())
	if b := buf.Bytes(); cap(b) <= 64<<10 {
		*bp = b[:0]
		readBufs.Put(bp)
	}
	return msg, err
}
