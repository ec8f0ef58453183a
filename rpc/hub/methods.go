package hub

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// Prefix is the reserved prefix of the hub's client-facing methods; the
// event notification ([EventMethod]) has it too. A server that mounts the
// hub must not name methods of its own with it.
const Prefix = "hub."

// The client-facing methods. Their params are objects (named params);
// see the package documentation for each one's members and result.
const (
	MethodSubscribe   = "hub.subscribe"
	MethodUnsubscribe = "hub.unsubscribe"
	MethodPublish     = "hub.publish"
	MethodRegister    = "hub.register"
	MethodUnregister  = "hub.unregister"
	MethodCall        = "hub.call"
)

var methodNames = []string{MethodSubscribe, MethodUnsubscribe, MethodPublish, MethodRegister, MethodUnregister, MethodCall}

var _ rpc.Handler = (*Hub)(nil)

// Mount registers the hub's client-facing methods on r, beside the
// server's own.
func (h *Hub) Mount(r *rpc.Router) error {
	for _, m := range methodNames {
		if err := r.Register(m, h); err != nil {
			return fmt.Errorf("hub: Mount: %w", err)
		}
	}
	return nil
}

// Handle serves the hub's client-facing methods, so that the Hub itself
// can be a peer's handler; any other method is answered "method not
// found".
func (h *Hub) Handle(ctx context.Context, req *rpc.Request) (any, error) {
	p := req.Peer()
	switch req.Method {
	case MethodSubscribe, MethodUnsubscribe:
		var a struct {
			Topic string `json:"topic"`
		}
		if err := decode(req, &a); err != nil {
			return nil, err
		}
		if req.Method == MethodUnsubscribe {
			return h.Unsubscribe(p, a.Topic), nil
		}
		if err := h.authorize(ctx, p, Subscribe, a.Topic); err != nil {
			return nil, err
		}
		if err := h.Subscribe(p, a.Topic); err != nil {
			return nil, wire(err)
		}
		return true, nil

	case MethodPublish:
		var a struct {
			Topic     string  `json:"topic"`
			Data      rpc.Raw `json:"data"`
			ExcludeMe *bool   `json:"excludeMe"`
		}
		if err := decode(req, &a); err != nil {
			return nil, err
		}
		if err := h.checkName(a.Topic, false); err != nil {
			return nil, err
		}
		if err := h.authorize(ctx, p, Publish, a.Topic); err != nil {
			return nil, err
		}
		var data any
		if !a.Data.IsNull() {
			data = bind(a.Data, p)
		}
		n, err := h.PublishFrom(p, a.Topic, data, a.ExcludeMe != nil && !*a.ExcludeMe)
		if err != nil {
			return nil, wire(err)
		}
		return n, nil

	case MethodRegister:
		var a struct {
			Procedure string `json:"procedure"`
			Policy    Policy `json:"policy"`
		}
		if err := decode(req, &a); err != nil {
			return nil, err
		}
		if err := h.checkProcedure(a.Procedure); err != nil {
			return nil, err
		}
		if err := h.authorize(ctx, p, Register, a.Procedure); err != nil {
			return nil, err
		}
		if err := h.Register(p, a.Procedure, a.Policy); err != nil {
			return nil, wire(err)
		}
		return true, nil

	case MethodUnregister:
		var a struct {
			Procedure string `json:"procedure"`
		}
		if err := decode(req, &a); err != nil {
			return nil, err
		}
		return h.Unregister(p, a.Procedure), nil

	case MethodCall:
		a := new(struct { // one allocation for the params and the answer
			Procedure string   `json:"procedure"`
			Params    rpc.Raw  `json:"params"`
			Timeout   *float64 `json:"timeout"` // milliseconds
			result    rpc.Raw  // the callee's answer, not a member
		})
		if err := decode(req, a); err != nil {
			return nil, err
		}
		if err := h.checkProcedure(a.Procedure); err != nil {
			return nil, err
		}
		var timeout time.Duration
		if a.Timeout != nil {
			ms := *a.Timeout
			if ms <= 0 || math.IsNaN(ms) || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
				return nil, invalid("timeout must be a positive number of milliseconds")
			}
			timeout = time.Duration(ms * float64(time.Millisecond))
		}
		if err := h.authorize(ctx, p, Call, a.Procedure); err != nil {
			return nil, err
		}
		var params any
		if !a.Params.IsNull() {
			params = bind(a.Params, p)
		}
		var fn func(rpc.Raw)
		if rpc.WantsProgress(ctx) {
			fn = func(v rpc.Raw) { _ = rpc.Progress(ctx, v) }
		}
		err := h.call(ctx, a.Procedure, params, &a.result, fn, timeout, true)
		if err != nil {
			return nil, forCaller(err, p)
		}
		if a.result.IsZero() {
			return nil, nil
		}
		return a.result, nil // its codec is the callee's: the caller's peer converts it if need be
	}
	return nil, &rpc.Error{Code: rpc.CodeMethodNotFound, Message: "method not found: " + clip(req.Method)}
}

// decode decodes a hub method's params, which must be an object.
func decode(req *rpc.Request, v any) error {
	if req.Params().IsZero() {
		return invalid("%s needs params", req.Method)
	}
	return req.DecodeParams(v)
}

// bind gives a Raw read from p's params p's codec (the CBOR codec's Raw
// members come without one).
func bind(r rpc.Raw, p *rpc.Peer) rpc.Raw {
	if r.Codec() == nil {
		return rpc.NewRaw(p.Codec(), r.Bytes())
	}
	return r
}

// authorize asks Options.Authorize.
func (h *Hub) authorize(ctx context.Context, p *rpc.Peer, a Action, name string) error {
	if h.opts.Authorize == nil {
		return nil
	}
	err := h.opts.Authorize(ctx, p, a, name)
	if err == nil {
		return nil
	}
	var e *rpc.Error
	if errors.As(err, &e) {
		return err
	}
	return &rpc.Error{Code: CodeNotAuthorized, Message: fmt.Sprintf("hub: not authorized to %s %q: %v", a, clip(name), err)}
}

// wire turns the Go API's lifecycle errors into JSON-RPC errors.
func wire(err error) error {
	var e *rpc.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, ErrClosed):
		return &rpc.Error{Code: rpc.CodeServerError, Message: err.Error()}
	}
	return err
}

// forCaller readies a routed call's error for the caller: a callee's
// error data is converted to the caller's codec.
func forCaller(err error, p *rpc.Peer) error {
	var e *rpc.Error
	if !errors.As(err, &e) {
		return err
	}
	out := &rpc.Error{Code: e.Code, Message: e.Message, Data: e.Data}
	if d, ok := e.Data.(rpc.Raw); ok {
		if c, err := bind(d, p).For(p.Codec()); err == nil {
			out.Data = c
		} else {
			out.Data = nil
		}
	}
	return out
}
