package sockjs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// errClosed is what Send returns once this end closed the session.
var errClosed = fmt.Errorf("sockjs: session closed: %w", net.ErrClosed)

// transport is the rpc.Transport of one SockJS session.
//
// Its read loop runs in the goroutine sockjs-go gives the session handler
// ([transport.run]); it starts once the Peer has joined the server's
// PeerSet. Close may come before that (the Peer failing to join,
// Server.Close, OnConnect closing the Peer at once), in which case Close
// itself reports the end to the Peer: there is no read loop to do it.
type transport struct {
	sess   sockjsgo.Session
	codec  codec.Codec // to answer a message that is not base64
	binary bool        // the codec's output is carried as base64 text
	in     rpc.Inbound

	// wlock is held while one message is handed to sockjs-go: a send that
	// waits for its turn gives up when its context ends.
	wlock chan struct{}

	// ctx ends the read loop's wait for a message when this end closes.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	state   loopState
	closing bool
	code    uint32 // close frame sent to the client, set by the first close
	reason  string
	closed  chan struct{} // closed by the first close from this end
}

type loopState uint8

const (
	loopIdle    loopState = iota // the read loop has not started
	loopRunning                  // the read loop owns OnMessage and OnClose
	loopDone                     // OnClose was called, or is being called
)

var _ rpc.Transport = (*transport)(nil)

func newTransport(sess sockjsgo.Session, c codec.Codec) *transport {
	ctx, cancel := context.WithCancel(context.Background())
	return &transport{
		sess:   sess,
		codec:  c,
		binary: c.Binary(),
		wlock:  make(chan struct{}, 1),
		ctx:    ctx,
		cancel: cancel,
		closed: make(chan struct{}),
	}
}

// Start records in; the session handler starts the read loop later.
func (t *transport) Start(in rpc.Inbound) { t.in = in }

// Close ends the session with CloseNormal. It does not wait for the
// client, nor for a write in progress.
func (t *transport) Close() error {
	t.closeWith(CloseNormal, "closed")
	return nil
}

// closeWith marks the session closed by this end, with the close frame the
// client will get, and stops the read loop. The first call wins. The close
// frame itself is sent by [transport.finish], on the session handler's
// goroutine: session.Close may wait behind a write in progress, and Close
// must not.
func (t *transport) closeWith(code uint32, reason string) {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		return
	}
	t.closing = true
	t.code, t.reason = code, trimReason(reason)
	close(t.closed)
	t.cancel()
	report := t.state == loopIdle
	if report {
		t.state = loopDone
	}
	t.mu.Unlock()
	if report && t.in != nil {
		t.in.OnClose(errClosed)
	}
}

// run is the read loop: it delivers the session's messages to the Peer
// until the session ends, then reports the end. It returns at once if the
// transport was closed before it started.
func (t *transport) run() {
	t.mu.Lock()
	if t.state != loopIdle {
		t.mu.Unlock()
		return
	}
	t.state = loopRunning
	t.mu.Unlock()

	for {
		text, err := t.sess.RecvCtx(t.ctx)
		if err != nil {
			break
		}
		select {
		case <-t.closed:
		default:
			t.deliver(text)
			continue
		}
		break
	}
	t.mu.Lock()
	t.state = loopDone
	t.mu.Unlock()
	t.in.OnClose(t.cause())
}

// cause tells why the read loop ended.
func (t *transport) cause() error {
	select {
	case <-t.closed:
		return errClosed
	default:
		// sockjs-go does not say why a session ended: the client closed
		// it, or stopped polling for longer than DisconnectDelay, or its
		// connection failed. All read as the other end going away.
		return fmt.Errorf("sockjs: session ended by the client: %w", io.EOF)
	}
}

// deliver hands one message to the Peer, decoding base64 for binary
// codecs.
func (t *transport) deliver(text string) {
	if !t.binary {
		t.in.OnMessage([]byte(text))
		return
	}
	msg, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		t.answerParseError("parse error: the message is not valid standard base64: " + err.Error())
		return
	}
	t.in.OnMessage(msg)
}

// answerParseError answers a message that never reached the Peer with a
// -32700 error whose id is null, as the Peer answers bytes it cannot
// parse.
func (t *transport) answerParseError(text string) {
	m := codec.Message{ID: codec.Null(), Error: &codec.Error{Code: int64(rpc.CodeParseError), Message: text}}
	msg, err := t.codec.AppendMessage(nil, &m)
	if err != nil {
		return
	}
	_ = t.Send(t.ctx, msg) // a failed send means the session is ending
}

// Send hands msg to sockjs-go, as text: itself, or its base64 encoding for
// a binary codec. It waits for its turn up to ctx's end; the write itself
// is bounded by sockjs-go (see the package documentation).
func (t *transport) Send(ctx context.Context, msg []byte) error {
	select {
	case t.wlock <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-t.closed:
		return errClosed
	}
	defer func() { <-t.wlock }()
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-t.closed:
		return errClosed
	default:
	}
	var text string
	if t.binary {
		text = base64.StdEncoding.EncodeToString(msg)
	} else {
		text = string(msg)
	}
	if err := t.sess.Send(text); err != nil {
		if errors.Is(err, sockjsgo.ErrSessionNotOpen) {
			return fmt.Errorf("sockjs: send: %w: %w", net.ErrClosed, err)
		}
		return fmt.Errorf("sockjs: send: %w", err)
	}
	return nil
}

// finish sends the close frame chosen by this end, if any, once the read
// loop is over; it runs on the session handler's goroutine. A session that
// ended from the client's side is closed already, and Close is then a
// no-op.
func (t *transport) finish() {
	t.mu.Lock()
	code, reason := t.code, t.reason
	if !t.closing {
		code, reason = CloseNormal, "closed"
	}
	t.mu.Unlock()
	_ = t.sess.Close(code, reason)
	t.cancel()
}
