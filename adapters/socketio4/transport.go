package socketio4

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// transport is the [rpc.Transport] over one socket (one namespace of a
// client connection).
//
// Inbound: the socket's events, and the acknowledgements of the server's
// calls, arrive on the socket's event loop, one at a time (the library
// runs a socket's packets through a queue); answers the adapter makes up
// itself (an acknowledgement that timed out) arrive from timers. deliverMu
// makes them reach the peer one at a time, as the transport contract
// requires. The peer runs each call's handler on a goroutine of its own,
// so a slow handler holds up neither the socket's other events nor its
// acknowledgements.
//
// Outbound: Send puts the message's work (an emit, an acknowledgement) on
// a bounded queue that one writer goroutine empties. The writer writes
// encoded packets to the engine itself (Client.WriteToEngine, which the
// library's emits also use under the same lock) rather than through
// Socket.Emit: Emit reads and resets per-socket flags (Timeout, Volatile)
// that a concurrent Timeout call of the application writes, which races;
// the adapter never touches them. The engine buffers without bound, so
// before each batch the writer waits until the engine's transport has
// written the previous one: a client that stops reading fills the queue,
// and then Send waits, up to its context's end.
type transport struct {
	srv     *Server
	sock    *socket.Socket
	codec   codec.Codec
	binary  bool // the codec's bytes go as binary attachments
	rawJSON bool // the codec is JSON: values pass to socket.io verbatim
	events  bool // the server's calls go as events with acknowledgements
	peer    *rpc.Peer

	queue chan func()
	done  chan struct{} // closed when the link ends

	deliverMu sync.Mutex // one OnMessage at a time

	mu         sync.Mutex
	in         rpc.Inbound
	max        int
	ended      bool
	cause      error
	draining   bool // the client left; packets it sent before may still wait on the socket's event loop
	delivering bool
	reported   bool
	nextIn     uint64
	inAcks     map[string]socket.Ack // the client's calls as events, by the id given to the peer
	out        map[int64]*outCall    // the server's calls as events, by the peer's id
	inPending  atomic.Int32          // len(inAcks), for Send's fast path
}

var _ rpc.Transport = (*transport)(nil)

func newTransport(s *Server, sock *socket.Socket, c codec.Codec, events bool) *transport {
	return &transport{
		srv:     s,
		sock:    sock,
		codec:   c,
		binary:  c.Binary(),
		rawJSON: c.Name() == "json",
		events:  events,
		queue:   make(chan func(), s.sendQueue),
		done:    make(chan struct{}),
		inAcks:  make(map[string]socket.Ack),
		out:     make(map[int64]*outCall),
	}
}

// Start starts the writer. A link that ended before Start is reported at
// once.
func (t *transport) Start(in rpc.Inbound) {
	t.mu.Lock()
	t.in = in
	t.max = in.MaxMessageSize()
	ended := t.ended
	t.mu.Unlock()
	if ended {
		t.report()
		return
	}
	go t.writeLoop()
}

// Send routes one message: onto the event as JSON-RPC, or as a socket.io
// event or acknowledgement (see acks.go).
func (t *transport) Send(ctx context.Context, msg []byte) error {
	select {
	case <-t.done:
		return t.closedErr()
	default:
	}
	if !t.events && t.inPending.Load() == 0 {
		return t.enqueue(ctx, t.rpcEmit(msg)) // nothing to route
	}
	return t.route(ctx, msg)
}

// enqueue hands work to the writer, waiting for room up to ctx's end.
func (t *transport) enqueue(ctx context.Context, f func()) error {
	select {
	case t.queue <- f:
		return nil
	default:
	}
	select {
	case t.queue <- f:
		return nil
	case <-t.done:
		return t.closedErr()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *transport) closedErr() error {
	return fmt.Errorf("socketio4: connection closed: %w", net.ErrClosed)
}

// rpcEmit returns the work of emitting msg on the event: as a string, or
// as one binary attachment for a binary codec.
func (t *transport) rpcEmit(msg []byte) func() {
	var arg any
	if t.binary {
		arg = bytes.Clone(msg)
	} else {
		arg = string(msg)
	}
	return func() { t.write(&parser.Packet{Type: parser.EVENT, Data: []any{t.srv.event, arg}}) }
}

// write encodes and writes one packet of the socket's namespace.
func (t *transport) write(p *parser.Packet) {
	if t.sock.Conn().ReadyState() != "open" {
		return
	}
	p.Nsp = t.sock.Nsp().Name()
	t.sock.Client().WriteToEngine(t.srv.io.Encoder().Encode(p), &socket.WriteOptions{})
}

// writeLoop does the queued work, in batches, until the link ends.
func (t *transport) writeLoop() {
	for {
		var f func()
		select {
		case f = <-t.queue:
		case <-t.done:
			return
		}
		t.waitWritable()
		f()
		// What queued meanwhile goes in the same batch.
		for n := len(t.queue); n > 0; n-- {
			select {
			case f = <-t.queue:
				f()
			default:
			}
		}
	}
}

// waitWritable waits until the engine's transport has written what it
// was given, the connection is gone, or the link ends. The engine offers
// no event for it that a listener could wait on without disturbing the
// application's listeners (it removes listeners by function), so it looks
// again after a pause that grows from microseconds to 10 ms. Under light
// load the transport is idle by the time the next message comes, and
// nothing waits.
func (t *transport) waitWritable() {
	conn := t.sock.Conn()
	var timer *time.Timer
	pause := 20 * time.Microsecond
	for i := 0; ; i++ {
		if conn.ReadyState() != "open" {
			return
		}
		if tr := conn.Transport(); tr == nil || tr.Writable() {
			return
		}
		if i < 8 {
			runtime.Gosched()
			continue
		}
		if timer == nil {
			timer = time.NewTimer(pause)
			defer timer.Stop()
		} else {
			timer.Reset(pause)
		}
		select {
		case <-timer.C:
		case <-t.done:
			return
		}
		pause = min(2*pause, 10*time.Millisecond)
	}
}

// Close ends the link and disconnects the socket (this namespace only).
func (t *transport) Close() error {
	t.end(fmt.Errorf("socketio4: %w", net.ErrClosed))
	t.srv.forget(t)
	t.sock.Disconnect(false)
	return nil
}

// onAny sees every event of the socket: the event carrying JSON-RPC,
// events that are calls, and the application's own, which it ignores.
// It runs on the socket's event loop.
func (t *transport) onAny(args ...any) {
	if len(args) == 0 {
		return
	}
	ev, _ := args[0].(string)
	rest := args[1:]
	var ack socket.Ack
	if n := len(rest); n > 0 {
		if a, ok := rest[n-1].(socket.Ack); ok {
			ack, rest = a, rest[:n-1]
		}
	}
	switch {
	case ev == t.srv.event:
		t.receiveRPC(rest)
	case t.srv.isMethod(ev):
		t.receiveCall(ev, rest, ack)
	}
}

// receiveRPC hands a JSON-RPC message from the event to the peer, or
// answers a payload that is not one.
func (t *transport) receiveRPC(args []any) {
	if len(args) == 0 {
		t.reject(rpc.CodeInvalidRequest, "socketio4: the event carried no argument; send the message as a string")
		return
	}
	var msg []byte
	switch v := args[0].(type) {
	case string:
		if !t.binary {
			msg = []byte(v)
			break
		}
		// A binary codec's message may also come as base64 text.
		if n := base64.StdEncoding.DecodedLen(len(v)) - 2; n > t.maxSize() {
			t.reject(rpc.CodeInvalidRequest, fmt.Sprintf("message of at least %d bytes exceeds the limit of %d", n, t.maxSize()))
			return
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.reject(rpc.CodeParseError, "socketio4: the message is neither binary nor valid base64: "+err.Error())
			return
		}
		msg = b
	case types.BufferInterface:
		msg = bytes.Clone(v.Bytes())
	default:
		t.reject(rpc.CodeInvalidRequest, fmt.Sprintf("socketio4: the event's argument is %s; send the message as a string or binary", kindOf(v)))
		return
	}
	t.deliver(msg)
}

func (t *transport) maxSize() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.max
}

// reject answers a payload that is not a message with an error response
// whose id is null, on the event.
func (t *transport) reject(code rpc.Code, message string) {
	t.srv.log.Debug("socketio4: rejected a payload", "socket", t.sock.Id(), "code", code, "reason", message)
	m := codec.Message{ID: codec.Null(), Error: &codec.Error{Code: int64(code), Message: message}}
	b, err := t.codec.AppendMessage(nil, &m)
	if err != nil {
		return
	}
	_ = t.enqueue(context.Background(), t.rpcEmit(b)) // waits for room: backpressure on this socket only
}

// deliver hands one message to the peer.
func (t *transport) deliver(msg []byte) {
	t.deliverMu.Lock()
	t.mu.Lock()
	if t.in == nil || t.reported || (t.ended && !t.draining) {
		t.mu.Unlock()
		t.deliverMu.Unlock()
		return
	}
	in := t.in
	t.delivering = true
	t.mu.Unlock()

	in.OnMessage(msg)

	t.mu.Lock()
	t.delivering = false
	t.mu.Unlock()
	t.deliverMu.Unlock()
	t.report() // in case the link ended while the peer held the message
}

// onDisconnecting ends the link when the client leaves, but tells the
// peer only once the socket's event loop has handled the packets that
// arrived before: the library reports a closed connection at once, from
// the engine's goroutine, while those packets still wait in the loop's
// queue (a notification sent just before closing would vanish). The
// library stops taking tasks just after "disconnecting": the marker queued
// here is the loop's last.
func (t *transport) onDisconnecting(args ...any) {
	reason, _ := firstArg(args).(string)
	t.mu.Lock()
	if !t.ended {
		t.draining = true
	}
	t.mu.Unlock()
	t.end(fmt.Errorf("socketio4: disconnected (%s): %w", reason, io.EOF))
	t.sock.Enqueue(t.drained)
}

// drained runs on the socket's event loop after its last packet.
func (t *transport) drained() {
	t.mu.Lock()
	t.draining = false
	t.mu.Unlock()
	t.report()
}

// onDisconnect ends the link when the socket disconnects (usually done
// by onDisconnecting already) and forgets it. The Server's listeners,
// set at the handshake, call both.
func (t *transport) onDisconnect(args ...any) {
	reason, _ := firstArg(args).(string)
	t.end(fmt.Errorf("socketio4: disconnected (%s): %w", reason, io.EOF))
	t.srv.forget(t)
}

// end marks the link ended with cause, once, drops the server's calls
// still waiting for acknowledgements (the peer ends them itself), and
// reports the end unless a delivery is running.
func (t *transport) end(cause error) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended, t.cause = true, cause
	close(t.done)
	for id, c := range t.out {
		if c.timer != nil {
			c.timer.Stop()
		}
		delete(t.out, id)
	}
	clear(t.inAcks)
	t.inPending.Store(0)
	t.mu.Unlock()
	t.report()
}

// report calls OnClose if the link has ended, Start has run, no delivery
// is running or may still come, and it has not been called yet.
func (t *transport) report() {
	t.mu.Lock()
	if !t.ended || t.in == nil || t.delivering || t.draining || t.reported {
		t.mu.Unlock()
		return
	}
	t.reported = true
	in, cause := t.in, t.cause
	t.mu.Unlock()
	in.OnClose(cause)
}

// kindOf names what a payload argument is, for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, int, int64, uint64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
