package rpc

import (
	"context"
	"errors"

	"github.com/parleyrpc/parley/codec"
)

// Inline marks h as quick and non-blocking, so that the peer always runs
// the calls it serves on the goroutine that reads the connection, never
// on a goroutine of its own. (Notifications are not affected: they run
// one at a time, in arrival order, on the peer's notification goroutine,
// Inline or not.) That saves a goroutine hand-off per call, which is most of what
// a small call costs beyond the link itself, at the price of the next
// message waiting until h returns. It also skips the per-call context.
//
// Use it for handlers that only compute: no I/O, no locks held long, no
// waiting. Its answer is written by the reading goroutine too. While it
// runs it holds up every other message on the connection, answers to this
// peer's own calls included; so a call to the same peer, made with the
// handler's ctx, fails at once with [ErrInlineCall] instead of waiting for
// ever. (Calls to other peers are fine; so is [Peer.Notify].)
//
// An inline handler's ctx is the peer's: it carries the peer
// ([PeerFromContext]) and ends when the peer ends, not when the caller
// cancels the call. Inline handlers take no [WithMaxConcurrency] slot: at
// most one runs at a time per peer. Interceptors wrap them as they wrap
// every handler, and run on the reading goroutine with them.
//
// Close, called while an inline handler runs (by the handler, say),
// returns without waiting for the transport to report its end, which
// can only come after the handler returns.
//
// Inline takes effect when h is given to [Router.Register] or to
// [WithHandler] directly.
func Inline(h Handler) Handler {
	if h == nil {
		return nil
	}
	return inlineHandler{h}
}

// ErrInlineCall is the error of a call made with an [Inline] handler's
// context to the peer that handler serves: its answer could not be read
// until the handler returned.
var ErrInlineCall = errors.New("rpc: call from an Inline handler to its own peer: the answer cannot be read until the handler returns; serve the method without Inline")

type inlineHandler struct{ Handler }

// inlineKey is the context key marking an inline handler's context.
type inlineKey struct{}

// inlineContext is every inline handler's context on one peer: made once,
// so that running a handler inline allocates no context.
type inlineContext struct {
	context.Context
	p *Peer
}

func (c inlineContext) Value(key any) any {
	if key == (inlineKey{}) {
		return c.p
	}
	return c.Context.Value(key)
}

// inlineRule returns whether a method is to be run inline under h, or nil
// when none can be.
func inlineRule(h Handler) func(method string) bool {
	switch h := h.(type) {
	case inlineHandler:
		return func(string) bool { return true }
	case *Router:
		return h.isInline
	}
	return nil
}

// isInline reports whether method is registered with an [Inline] handler.
func (r *Router) isInline(method string) bool {
	if m := r.methods.Load(); m != nil {
		_, ok := (*m)[method].(inlineHandler)
		return ok
	}
	return false
}

// serveInline runs a call's handler on the reading goroutine and answers.
func (p *Peer) serveInline(m *codec.Message, b *inBatch) {
	p.inlineUsed.Store(true)
	req := &Request{Method: m.Method, ID: m.ID, params: m.Params, peer: p}
	b.add()
	p.inlineRunning.Store(true)
	result, err := p.handle(p.inlineCtx, req)
	p.inlineRunning.Store(false)
	p.answer(b, m.ID, result, err)
}

// checkInlineCall refuses a call that an inline handler makes to its own
// peer; the common case, no inline handler ever ran, costs one load.
func (p *Peer) checkInlineCall(ctx context.Context) error {
	if p.inlineUsed.Load() && ctx.Value(inlineKey{}) == p {
		return ErrInlineCall
	}
	return nil
}
