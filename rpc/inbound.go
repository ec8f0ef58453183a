package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/parleyrpc/parley/codec"
)

// cancelMethod is the notification a caller sends when it abandons a call,
// after the Language Server Protocol.
const cancelMethod = "$/cancelRequest"

// inbound is what the transport delivers to; it keeps the Peer's own
// method set free of transport callbacks.
type inbound struct{ p *Peer }

var _ Inbound = inbound{}

func (in inbound) MaxMessageSize() int { return in.p.maxMessageSize }

// OnClose ends the peer with the transport's cause.
func (in inbound) OnClose(err error) {
	p := in.p
	switch {
	case err == nil, errors.Is(err, net.ErrClosed) && !errors.Is(err, ErrConnectionLost):
		err = fmt.Errorf("%w: transport closed", ErrConnectionLost)
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("%w: the other end closed the connection", ErrConnectionLost)
	default:
		err = fmt.Errorf("%w: %w", ErrConnectionLost, err)
	}
	p.end(err) // no-op when Close came first: its ErrClosed stands
	close(p.done)
}

// OnMessage decodes one message or batch and acts on each message in it.
func (in inbound) OnMessage(msg []byte) {
	p := in.p
	if len(msg) > p.maxMessageSize {
		p.reply(codec.Null(), &Error{Code: CodeInvalidRequest,
			Message: fmt.Sprintf("message of %d bytes exceeds the limit of %d", len(msg), p.maxMessageSize)})
		return
	}
	// The transport delivers one message at a time: the scratch is free.
	msgs, isBatch, err := p.codec.Decode(p.scratch[:0], msg)
	switch {
	case errors.Is(err, codec.ErrLimit): // well-formed, but a batch too long to take
		p.reply(codec.Null(), &Error{Code: CodeInvalidRequest, Message: err.Error()})
	case err != nil:
		p.reply(codec.Null(), &Error{Code: CodeParseError, Message: err.Error()})
	case isBatch && len(msgs) == 0:
		p.reply(codec.Null(), &Error{Code: CodeInvalidRequest, Message: "empty batch"})
	case isBatch:
		p.serveBatch(msgs)
	default:
		p.dispatch(&msgs[0], nil)
	}
	clear(msgs) // drop references into msg so it can be collected
	p.scratch = msgs[:0]
	if cap(msgs) > maxScratch {
		p.scratch = nil // a big batch's worth: let it go rather than keep it per peer
	}
}

// maxScratch is the most decoded messages a peer keeps room for between
// deliveries.
const maxScratch = 64

// dispatch acts on one decoded message. b is the batch it came in, if any.
func (p *Peer) dispatch(m *codec.Message, b *inBatch) {
	switch {
	case m.Invalid != "":
		id := m.ID
		if !m.HadMethod {
			// Perhaps a broken answer to one of our calls: its id is ours,
			// not one to answer with. End that call; answer with null.
			p.failPending(m.ID, m.Invalid)
			id = codec.ID{}
		}
		if id.IsZero() {
			id = codec.Null()
		}
		b.add()
		p.answer(b, id, nil, &Error{Code: CodeInvalidRequest, Message: "invalid request: " + m.Invalid})
	case !m.IsRequest():
		p.deliver(m)
	case m.Method == cancelMethod:
		p.cancelServing(m)
		if !m.ID.IsZero() {
			b.add()
			p.answer(b, m.ID, nil, nil)
		}
	case m.Method == progressMethod && m.ID.IsZero():
		p.deliverProgress(m) // here, in arrival order, before the answer
	case m.IsNotification():
		if !strings.HasPrefix(m.Method, "$/") { // unknown protocol notifications are ignored
			p.notes.push(&Request{Method: m.Method, params: m.Params, peer: p})
		}
	case p.inline != nil && p.inline(m.Method):
		p.serveInline(m, b)
	default:
		// Wait for an answer's place, then for a handler slot: this is
		// where reading pauses.
		select {
		case p.answers <- struct{}{}:
		case <-p.quit:
			return
		}
		select {
		case p.handlers <- struct{}{}:
		case <-p.quit:
			<-p.answers
			return
		}
		call := &servedCall{req: Request{Method: m.Method, ID: m.ID, params: m.Params, peer: p}}
		call.ctx.Context = p.ctx
		p.mu.Lock()
		_, dup := p.serving[m.ID]
		if !dup {
			p.serving[m.ID] = &call.ctx
		}
		p.mu.Unlock()
		b.add()
		if dup {
			// Two calls under one id could not be told apart, by the
			// caller nor by $/cancelRequest: refuse the second.
			<-p.handlers
			p.answer(b, m.ID, nil, &Error{Code: CodeInvalidRequest,
				Message: "invalid request: id " + m.ID.String() + " is in use by a call still in progress"})
			<-p.answers
			return
		}
		call.b = b
		goServe(call)
	}
}

// serve runs a call's handler and answers it. The handler slot is freed
// when the handler returns; the answer's place is held until the answer is
// written (or added to its batch). So at most WithMaxConcurrency handlers
// run, and at most twice that many calls are between being read and
// having their answers written: a remote end that sends calls without
// reading their answers stops being read once every place holds an
// unwritten answer, instead of costing a goroutine and a buffer per call.
// The places beyond the handler slots keep ordinary bursts flowing when
// two peers call each other over a link that buffers little; two peers
// that flood each other beyond them stop reading each other until the
// transport's write timeout ends the link (the slow-consumer policy).
func (p *Peer) serve(call *servedCall, b *inBatch) {
	req := &call.req
	result, err := p.handle(&call.ctx, req)
	call.ctx.cancel(context.Canceled)
	p.mu.Lock()
	delete(p.serving, req.ID)
	p.mu.Unlock()
	<-p.handlers
	p.answer(b, req.ID, result, err)
	<-p.answers
}

// handle calls the handler, turning a panic into an internal error.
func (p *Peer) handle(ctx context.Context, req *Request) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("rpc: handler panicked", "method", req.Method, "panic", v, "stack", string(debug.Stack()))
			result, err = nil, &Error{Code: CodeInternalError, Message: "internal error: handler panicked"}
		}
	}()
	return p.handler.Handle(ctx, req)
}

// cancelServing cancels the handler of the call named by a $/cancelRequest.
func (p *Peer) cancelServing(m *codec.Message) {
	var params struct {
		ID any `json:"id"`
	}
	if m.Params == nil || p.codec.Unmarshal(m.Params, &params) != nil {
		return
	}
	var id codec.ID
	switch v := params.ID.(type) {
	case string:
		id = codec.String(v)
	case float64: // encoding/json
		id = codec.Number(fmt.Sprint(v))
	case int64:
		id = codec.Int(v)
	case uint64:
		id = codec.Number(fmt.Sprint(v))
	default:
		return
	}
	p.mu.Lock()
	call := p.serving[id]
	p.mu.Unlock()
	if call != nil {
		call.cancel(context.Canceled)
	}
}

// answer sends the response to a call, or adds it to its batch.
func (p *Peer) answer(b *inBatch, id codec.ID, result any, err error) {
	buf := getBuffer()
	defer putBuffer(buf)
	msg, encErr := p.encodeResponse(buf, id, result, err)
	if encErr != nil {
		p.log.Error("rpc: encoding a response", "id", id.String(), "err", encErr)
		return
	}
	if b != nil {
		b.done(p, msg)
		return
	}
	_ = p.send(p.ctx, msg) // a failed send means the link is going: nothing to tell
}

// reply sends an error response outside any batch.
func (p *Peer) reply(id codec.ID, err *Error) { p.answer(nil, id, nil, err) }

// encodeResponse encodes the response into buf. The result, if any, is
// encoded first into buf itself, and the envelope after it, so one buffer
// serves both; the returned slice is the envelope alone.
func (p *Peer) encodeResponse(buf *buffer, id codec.ID, result any, err error) ([]byte, error) {
	dst := buf.b[:0]
	m := &buf.m
	*m = codec.Message{ID: id}
	if err == nil {
		var encErr error
		dst, encErr = p.appendValue(dst, result)
		if encErr != nil {
			err = &Error{Code: CodeInternalError, Message: "internal error: encoding the result: " + encErr.Error()}
			dst = dst[:0]
		} else {
			m.Result = dst
		}
	}
	if err != nil {
		m.Error = wireError(p.codec, err)
	}
	start := len(dst)
	out, encErr := p.codec.AppendMessage(dst, m)
	buf.b = out
	return out[start:], encErr
}

// inBatch gathers the answers to the calls of one inbound batch and sends
// them together when the last one is in.
type inBatch struct {
	pending atomic.Int32
	mu      sync.Mutex
	answers [][]byte
}

// add counts one more answer to wait for; on a nil batch it does nothing.
func (b *inBatch) add() {
	if b != nil {
		b.pending.Add(1)
	}
}

// done records one answer (nil for none) and sends the batch if it was the
// last one outstanding.
func (b *inBatch) done(p *Peer, answer []byte) {
	if answer != nil {
		b.mu.Lock()
		b.answers = append(b.answers, append([]byte(nil), answer...))
		b.mu.Unlock()
	}
	if b.pending.Add(-1) != 0 {
		return
	}
	if len(b.answers) == 0 {
		return // all notifications: no response at all, per the spec
	}
	buf := getBuffer()
	buf.b = p.codec.AppendBatch(buf.b[:0], b.answers)
	_ = p.send(p.ctx, buf.b)
	putBuffer(buf)
}

// serveBatch acts on each message of an inbound batch.
func (p *Peer) serveBatch(msgs []codec.Message) {
	b := new(inBatch)
	b.add() // held by this loop, so the batch cannot complete early
	for i := range msgs {
		p.dispatch(&msgs[i], b)
	}
	b.done(p, nil)
}

// notifications runs notification handlers one at a time, in arrival
// order, on a goroutine that exists only while there is work.
type notifications struct {
	p       *Peer
	queue   chan *Request
	running atomic.Bool
}

func (n *notifications) init(p *Peer, size int) {
	n.p = p
	n.queue = make(chan *Request, size)
}

// push queues a notification, waiting while the queue is full.
func (n *notifications) push(req *Request) {
	select {
	case n.queue <- req:
	case <-n.p.quit:
		return
	}
	if n.running.CompareAndSwap(false, true) {
		goServe(n)
	}
}

func (n *notifications) run() {
	for {
		select {
		case req := <-n.queue:
			if _, err := n.p.handle(n.p.ctx, req); err != nil {
				// The other end's mistakes (unknown method, bad params)
				// are its own, and it may repeat them at will: they go at
				// debug level, so that they cannot flood the log.
				level := slog.LevelWarn
				var e *Error
				if errors.As(err, &e) && (e.Code == CodeMethodNotFound || e.Code == CodeInvalidParams) {
					level = slog.LevelDebug
				}
				n.p.log.Log(n.p.ctx, level, "rpc: notification handler failed", "method", clip(req.Method, maxEchoedName), "err", err)
			}
			continue
		default:
		}
		n.running.Store(false)
		// A push may have slipped in after the queue looked empty.
		if len(n.queue) == 0 || !n.running.CompareAndSwap(false, true) {
			return
		}
	}
}
