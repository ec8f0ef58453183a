package rpc

import "context"

// Invocation is a call or notification on its way out of a peer, as an
// outbound interceptor sees it.
type Invocation struct {
	// Method is the method name.
	Method string
	// Params is the value to encode as params; nil means none.
	Params any
	// Result is where a call's result is decoded; nil discards it.
	Result any
	// Notify is true for a notification (no answer expected).
	Notify bool

	batch *outBatch // set when the invocation is part of Peer.Batch
}

// Invoker sends an invocation and, for a call, waits for its answer.
type Invoker func(ctx context.Context, inv Invocation) error

// Interceptor wraps what a peer does in both directions. WrapHandler wraps
// the handling of every inbound call and notification; WrapInvoker wraps
// every outbound call and notification, including each item of a batch.
// [InboundInterceptor] and [OutboundInterceptor] cover one direction only.
type Interceptor interface {
	WrapHandler(next Handler) Handler
	WrapInvoker(next Invoker) Invoker
}

// InboundInterceptor is an [Interceptor] for inbound calls and
// notifications only.
type InboundInterceptor func(next Handler) Handler

// WrapHandler calls f.
func (f InboundInterceptor) WrapHandler(next Handler) Handler { return f(next) }

// WrapInvoker returns next unchanged.
func (f InboundInterceptor) WrapInvoker(next Invoker) Invoker { return next }

// OutboundInterceptor is an [Interceptor] for outbound calls and
// notifications only.
type OutboundInterceptor func(next Invoker) Invoker

// WrapHandler returns next unchanged.
func (f OutboundInterceptor) WrapHandler(next Handler) Handler { return next }

// WrapInvoker calls f.
func (f OutboundInterceptor) WrapInvoker(next Invoker) Invoker { return f(next) }

var (
	_ Interceptor = InboundInterceptor(nil)
	_ Interceptor = OutboundInterceptor(nil)
)

// chain applies interceptors so that the first is outermost.
func chain(is []Interceptor, h Handler, inv Invoker) (Handler, Invoker) {
	for i := len(is) - 1; i >= 0; i-- {
		h = is[i].WrapHandler(h)
		inv = is[i].WrapInvoker(inv)
	}
	return h, inv
}
