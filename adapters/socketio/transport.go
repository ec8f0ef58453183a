package socketio

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// ErrIdle is the cause a connection ends with when no message arrived on
// the rpc event for [ServerOptions.IdleTimeout].
var ErrIdle = errors.New("socketio: connection idle")

// transport is the [rpc.Transport] over one socket.io connection (its
// namespace connection, to be exact).
//
// Reads: go-socket.io calls the event handler on the connection's read
// goroutine, one event at a time, in order; the handler hands the message
// to the peer right there, so a busy peer stops that connection's reads
// (backpressure) and no other.
//
// Writes: one writer goroutine per connection takes messages from a
// bounded queue and emits them. Emit has no context and blocks until
// go-socket.io's own writer takes the packet; it must also never run
// inside go-socket.io's connect handler (the writer starts only after it
// returns, so the emit would wait forever). With the queue in between,
// Send honours its context and may be called from anywhere, the connect
// handler included, and emits on one connection never run concurrently.
type transport struct {
	conn   sio.Conn
	srv    *Server
	codec  codec.Codec // set before Start
	binary bool        // carry messages as base64 text
	peer   *rpc.Peer   // set once NewPeer returned; guarded by srv.mu

	queue chan string
	done  chan struct{} // closed when the link ends

	mu         sync.Mutex
	in         rpc.Inbound // set by Start
	max        int
	ended      bool
	cause      error
	delivering bool  // an OnMessage is running
	reported   bool  // OnClose was called
	lastErr    error // the last error go-socket.io reported for the connection
	timer      *time.Timer

	start    time.Time    // for the idle check, on the monotonic clock
	lastSeen atomic.Int64 // nanoseconds since start of the last inbound message
}

var _ rpc.Transport = (*transport)(nil)

func newTransport(conn sio.Conn, srv *Server) *transport {
	return &transport{
		conn:  conn,
		srv:   srv,
		queue: make(chan string, srv.sendQueue),
		done:  make(chan struct{}),
		start: time.Now(),
	}
}

// Start starts the writer and the idle check. A link that ended before
// Start (the client left during the connect handler) is reported at once.
func (t *transport) Start(in rpc.Inbound) {
	t.mu.Lock()
	t.in = in
	t.max = in.MaxMessageSize()
	ended := t.ended
	if !ended && t.srv.idle > 0 {
		t.timer = time.AfterFunc(t.srv.idle, t.checkIdle)
	}
	t.mu.Unlock()
	if ended {
		t.report()
		return
	}
	go t.writeLoop()
}

// Send queues msg for the writer, waiting for room up to ctx's end.
func (t *transport) Send(ctx context.Context, msg []byte) error {
	select {
	case <-t.done:
		return t.closedErr()
	default:
	}
	var s string
	if t.binary {
		s = base64.StdEncoding.EncodeToString(msg)
	} else {
		s = string(msg)
	}
	select {
	case t.queue <- s:
		return nil
	case <-t.done:
		return t.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *transport) closedErr() error {
	return fmt.Errorf("socketio: connection closed: %w", net.ErrClosed)
}

// Close ends the link and closes the socket.io connection, all of it:
// go-socket.io cannot end one namespace of a connection from the server.
func (t *transport) Close() error {
	t.end(fmt.Errorf("socketio: %w", net.ErrClosed))
	return t.conn.Close()
}

// writeLoop emits queued messages until the link ends.
func (t *transport) writeLoop() {
	for {
		select {
		case s := <-t.queue:
			// Emit returns at once if the connection has closed.
			t.conn.Emit(t.srv.event, s)
		case <-t.done:
			return
		}
	}
}

// receive handles one rpc event: it hands the message to the peer, or
// answers a payload that is not one.
func (t *transport) receive(a *eventArg) {
	t.mu.Lock()
	if t.ended || t.in == nil {
		t.mu.Unlock()
		return
	}
	in, max, binary := t.in, t.max, t.binary
	t.delivering = true
	t.mu.Unlock()

	t.lastSeen.Store(int64(time.Since(t.start)))
	msg, rej := a.message(binary, max)
	if rej != nil {
		t.reject(rej)
	} else {
		in.OnMessage(msg)
	}

	t.mu.Lock()
	t.delivering = false
	t.mu.Unlock()
	t.report() // in case the link ended while the peer held the message
}

// reject answers a payload that is not a message with an error response
// whose id is null, in the connection's codec.
func (t *transport) reject(r *rejection) {
	t.srv.log.Debug("socketio: rejected an rpc event payload", "conn", t.conn.ID(), "code", r.code, "reason", r.message)
	m := codec.Message{ID: codec.Null(), Error: &codec.Error{Code: r.code, Message: r.message}}
	b, err := t.codec.AppendMessage(nil, &m)
	if err != nil {
		t.srv.log.Error("socketio: encoding an error answer", "err", err)
		return
	}
	_ = t.Send(context.Background(), b) // waits for room: backpressure on this connection only
}

// end marks the link ended with cause, once, and reports it to the peer
// unless a delivery is running (then receive reports it when it returns).
func (t *transport) end(cause error) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended, t.cause = true, cause
	close(t.done)
	if t.timer != nil {
		t.timer.Stop()
	}
	t.mu.Unlock()
	t.report()
}

// report calls OnClose if the link has ended, Start has run, no delivery
// is running and it has not been called yet.
func (t *transport) report() {
	t.mu.Lock()
	if !t.ended || t.in == nil || t.delivering || t.reported {
		t.mu.Unlock()
		return
	}
	t.reported = true
	in, cause := t.in, t.cause
	t.mu.Unlock()
	in.OnClose(cause)
}

// noteError keeps the last error go-socket.io reported for the connection,
// as the likely cause of a disconnect that follows.
func (t *transport) noteError(err error) {
	t.mu.Lock()
	t.lastErr = err
	t.mu.Unlock()
}

// disconnected ends the link after go-socket.io reported the disconnect.
func (t *transport) disconnected(reason string) {
	t.mu.Lock()
	last := t.lastErr
	t.mu.Unlock()
	var cause error
	switch {
	case last != nil && !errors.Is(last, io.EOF):
		cause = fmt.Errorf("socketio: connection lost: %w", last)
	case reason != "":
		cause = fmt.Errorf("socketio: disconnected (%s): %w", reason, io.EOF)
	default:
		cause = fmt.Errorf("socketio: disconnected: %w", io.EOF)
	}
	t.end(cause)
}

// checkIdle closes the connection if nothing arrived for the idle timeout,
// or re-arms the timer for the rest of it.
func (t *transport) checkIdle() {
	idle := t.srv.idle
	quiet := time.Since(t.start) - time.Duration(t.lastSeen.Load())
	if quiet >= idle {
		t.srv.log.Info("socketio: closing an idle connection", "conn", t.conn.ID(), "idle", quiet)
		t.end(ErrIdle)
		_ = t.conn.Close()
		return
	}
	t.mu.Lock()
	if !t.ended {
		t.timer.Reset(idle - quiet)
	}
	t.mu.Unlock()
}
