package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/parleyrpc/parley/codec"
)

// Call calls method on the other end with params and decodes the result
// into result, a pointer (nil discards it). params may be nil, or any value
// the codec encodes as an array or an object (a struct, map, slice or
// array).
//
// Call returns when the answer arrives; when ctx ends (with ctx's error,
// after telling the other end with a $/cancelRequest notification); or
// when the link drops ([ErrConnectionLost]). A remote error is an [*Error]
// for which [IsRemote] holds.
func (p *Peer) Call(ctx context.Context, method string, params, result any) error {
	return p.invoke(ctx, Invocation{Method: method, Params: params, Result: result})
}

// Notify sends a notification: a call that gets no answer. It returns once
// the message is handed to the transport.
func (p *Peer) Notify(ctx context.Context, method string, params any) error {
	return p.invoke(ctx, Invocation{Method: method, Params: params, Notify: true})
}

// Call calls method on p and returns its result as an R.
func Call[R any](ctx context.Context, p *Peer, method string, params any) (R, error) {
	var r R
	err := p.Call(ctx, method, params, &r)
	return r, err
}

// answer is what a pending call receives: a response or the reason the
// peer ended.
type answer struct {
	msg codec.Message
	err error
}

// pendingCall is an outbound call awaiting its answer. Its channel has room
// for the one answer, so the reader never waits on a caller.
type pendingCall struct {
	ch chan answer
}

var pendingCalls = sync.Pool{New: func() any {
	return &pendingCall{ch: make(chan answer, 1)}
}}

// transmit is the innermost Invoker: encode, send, and wait for the answer.
func (p *Peer) transmit(ctx context.Context, inv Invocation) error {
	if err := checkMethodName(inv.Method); err != nil && inv.Method != cancelMethod {
		return err
	}
	if err := checkParams(inv.Params); err != nil {
		return fmt.Errorf("rpc: %s: %w", inv.Method, err)
	}
	if p.defaultTimeout > 0 {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, p.defaultTimeout)
			defer cancel()
		}
	}
	buf := getBuffer()
	defer putBuffer(buf)
	m := &buf.m
	m.Method = inv.Method
	if raw, ok := inv.Params.(Raw); ok && raw.IsZero() {
		inv.Params = nil // no params: null would be invalid (JSON-RPC 2.0, 4.2)
	}
	if inv.Params != nil {
		var err error
		if buf.b, err = p.appendValue(buf.b[:0], inv.Params); err != nil {
			return fmt.Errorf("rpc: %s: encoding params: %w", inv.Method, err)
		}
		m.Params = buf.b
	}
	var (
		id   int64
		call *pendingCall
	)
	if !inv.Notify {
		if err := p.checkInlineCall(ctx); err != nil {
			return fmt.Errorf("rpc: %s: %w", inv.Method, err)
		}
		id = p.nextID.Add(1)
		m.ID = codec.Int(id)
		call = pendingCalls.Get().(*pendingCall)
		// Register before sending, so that the answer cannot outrun us.
		p.mu.Lock()
		if p.pending == nil {
			p.mu.Unlock()
			pendingCalls.Put(call)
			return p.endErr()
		}
		p.pending[id] = call
		p.mu.Unlock()
	}
	start := len(buf.b)
	out, err := p.codec.AppendMessage(buf.b, m)
	buf.b = out
	if err != nil {
		err = fmt.Errorf("encoding the message: %w", err)
	} else {
		if inv.batch != nil {
			err = inv.batch.enqueue(ctx, out[start:])
		} else {
			err = p.send(ctx, out[start:])
		}
		if err != nil && p.closedByUs() {
			err = ErrClosed // Close cut the send short: say so, not "lost"
		} else if err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrConnectionLost) {
			// Whatever the transport said, the link failed under us.
			err = fmt.Errorf("%w: %w", ErrConnectionLost, err)
		}
	}
	if err != nil {
		if call != nil {
			p.forget(id, call)
		}
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return fmt.Errorf("rpc: %s: %w", inv.Method, ctxErr)
		}
		return fmt.Errorf("rpc: %s: %w", inv.Method, err)
	}
	if call == nil {
		return nil
	}
	return p.await(ctx, inv, id, call)
}

// await waits for a call's answer, which the transport's reading
// delivers, and decodes it.
func (p *Peer) await(ctx context.Context, inv Invocation, id int64, call *pendingCall) error {
	select {
	case a := <-call.ch:
		pendingCalls.Put(call)
		switch {
		case a.err != nil:
			return fmt.Errorf("rpc: %s: %w", inv.Method, a.err)
		case a.msg.Error != nil:
			return remoteError(p.codec, a.msg.Error)
		case inv.Result != nil:
			if err := p.codec.Unmarshal(a.msg.Result, inv.Result); err != nil {
				return fmt.Errorf("rpc: %s: decoding the result: %w", inv.Method, err)
			}
		}
		return nil
	case <-ctx.Done():
		if p.forget(id, call) {
			go p.sendCancel(id)
		}
		return fmt.Errorf("rpc: %s: %w", inv.Method, ctx.Err())
	}
}

// forget removes a pending call the caller has given up on. It reports
// whether the call was still pending; if not, the answer is in flight to
// the call's channel and the call cannot be reused.
func (p *Peer) forget(id int64, call *pendingCall) bool {
	p.mu.Lock()
	_, ok := p.pending[id]
	if ok {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if ok {
		pendingCalls.Put(call)
	}
	return ok
}

// sendCancel tells the other end that call id was abandoned. It is best
// effort: the peer's end, or a stuck link, cuts it short.
func (p *Peer) sendCancel(id int64) {
	ctx, cancel := context.WithTimeout(p.ctx, cancelSendTimeout)
	defer cancel()
	_ = p.transmit(ctx, Invocation{Method: cancelMethod, Params: cancelParams{ID: id}, Notify: true})
}

type cancelParams struct {
	ID int64 `json:"id"`
}

// deliver hands a response to the call waiting for it. An answer nobody
// waits for (its call was cancelled, or the id is not ours) is dropped.
func (p *Peer) deliver(m *codec.Message) {
	id, ok := m.ID.Int()
	if !ok {
		if m.Error != nil {
			p.log.Debug("rpc: the other end reported an error", "code", m.Error.Code, "message", m.Error.Message)
		}
		return
	}
	p.mu.Lock()
	call := p.pending[id]
	if call != nil {
		delete(p.pending, id)
	}
	p.mu.Unlock()
	if call != nil {
		call.ch <- answer{msg: *m}
	}
}

// closedByUs reports whether the peer has ended through Close.
func (p *Peer) closedByUs() bool {
	select {
	case <-p.quit:
		return errors.Is(p.endErr(), ErrClosed)
	default:
		return false
	}
}

// failPending ends our pending call id, if there is one, with
// ErrInvalidResponse: its answer came, but broken.
func (p *Peer) failPending(id codec.ID, reason string) {
	n, ok := id.Int()
	if !ok {
		return
	}
	p.mu.Lock()
	call := p.pending[n]
	if call != nil {
		delete(p.pending, n)
	}
	p.mu.Unlock()
	if call != nil {
		call.ch <- answer{err: fmt.Errorf("%w: %s", ErrInvalidResponse, reason)}
	}
}

// checkParams refuses params that cannot encode as an array or an object,
// which JSON-RPC 2.0 requires; Raw values are trusted.
func checkParams(params any) error {
	if params == nil {
		return nil
	}
	if _, ok := params.(Raw); ok {
		return nil
	}
	t := reflect.TypeOf(params)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		return nil
	}
	if _, ok := params.(interface{ MarshalJSON() ([]byte, error) }); ok {
		return nil // a custom encoding may well be an array or an object
	}
	return fmt.Errorf("params must encode as an array or an object, not %s", t)
}
