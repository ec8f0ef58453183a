package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/parleyrpc/parley/codec"
)

// Progressive results, after the Language Server Protocol's partial
// results and WAMP's progressive call results.
//
// On the wire: a caller that wants partial results puts a member
// "partialResultToken" (a string or a number of its choosing) in its
// params, which must then be an object. The callee sends, before its
// answer, any number of notifications
//
//	{"jsonrpc": "2.0", "method": "$/progress", "params": {"token": T, "value": V}}
//
// with the caller's token T and one partial result V each; then it
// answers the call as usual, with a result or an error. A call with
// positional (array) params cannot ask for partial results. A callee may
// ignore the token: the call then just ends with its answer. A JavaScript
// client asks by adding the member and handles the method "$/progress".

// progressMethod is the notification that carries a partial result.
const progressMethod = "$/progress"

// ProgressTokenMember is the params member with which a caller asks for
// partial results.
const ProgressTokenMember = "partialResultToken"

var progressTokenBytes = []byte(ProgressTokenMember)

// progressQueue is how many partial results may wait for a caller's
// callback before the peer stops reading.
const progressQueue = 16

// ErrProgressParams is returned by [CallWithProgress] for params that
// cannot carry a progress token: params that do not encode as an object.
var ErrProgressParams = errors.New("rpc: partial results need params that are an object, or none")

// ErrProgressEnded is returned by [Progress] once the call's handler has
// returned: its answer may be on its way, and nothing may follow it.
var ErrProgressEnded = errors.New("rpc: Progress after the handler returned")

// progressKey is the context key of a call's progressSender.
type progressKey struct{}

// progressSender sends the partial results of one call that asked for
// them.
type progressSender struct {
	p     *Peer
	token Raw

	mu   sync.Mutex // held while sending, so that none outruns the answer
	done bool
}

// WantsProgress reports whether the call whose handler ctx belongs to
// asked for partial results, so that a handler can skip preparing them
// when nobody will receive them.
func WantsProgress(ctx context.Context) bool {
	_, ok := ctx.Value(progressKey{}).(*progressSender)
	return ok
}

// Progress sends value as a partial result of the call whose handler ctx
// belongs to, before the call's answer. If the caller did not ask for
// partial results, Progress sends nothing and returns nil. Partial results
// reach the caller in the order the handler sent them, all before its
// answer; Progress waits, up to ctx's end, for room on the link. After the
// handler has returned it fails with [ErrProgressEnded].
func Progress(ctx context.Context, value any) error {
	s, ok := ctx.Value(progressKey{}).(*progressSender)
	if !ok {
		return nil
	}
	if r, isRaw := value.(Raw); isRaw {
		var err error
		if value, err = r.bind(s.p.codec).For(s.p.codec); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return ErrProgressEnded
	}
	return s.p.notifyProtocol(ctx, progressMethod, progressParams{Token: s.token, Value: value})
}

// progressParams are the params of $/progress.
type progressParams struct {
	Token Raw `json:"token"`
	Value any `json:"value"`
}

// notifyProtocol sends a protocol notification ($/...), which Notify
// refuses to send for users.
func (p *Peer) notifyProtocol(ctx context.Context, method string, params any) error {
	buf := getBuffer()
	defer putBuffer(buf)
	b, err := p.appendValue(buf.b[:0], params)
	if err != nil {
		return fmt.Errorf("rpc: %s: encoding params: %w", method, err)
	}
	m := &buf.m
	m.Method, m.Params = method, b
	start := len(b)
	out, err := p.codec.AppendMessage(b, m)
	buf.b = out
	if err != nil {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	if err := p.send(ctx, out[start:]); err != nil {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	return nil
}

// progressHandler gives the calls that ask for partial results a
// progressSender in their context. Calls whose params do not mention the
// token member pay one byte search.
type progressHandler struct{ h Handler }

func withProgress(h Handler) Handler { return progressHandler{h} }

func (ph progressHandler) Handle(ctx context.Context, req *Request) (any, error) {
	if req.ID.IsZero() || !bytes.Contains(req.params, progressTokenBytes) {
		return ph.h.Handle(ctx, req)
	}
	token, ok := progressToken(req)
	if !ok {
		return ph.h.Handle(ctx, req)
	}
	s := &progressSender{p: req.peer, token: token}
	defer func() {
		s.mu.Lock()
		s.done = true
		s.mu.Unlock()
	}()
	return ph.h.Handle(context.WithValue(ctx, progressKey{}, s), req)
}

// progressToken reads a call's progress token: a string or a number.
func progressToken(req *Request) (Raw, bool) {
	var v struct {
		Token Raw `json:"partialResultToken"`
	}
	c := req.peer.codec
	if err := c.Unmarshal(req.params, &v); err != nil || v.Token.IsZero() {
		return Raw{}, false
	}
	token := v.Token.bind(c)
	var t any
	if token.codec == nil || c.Unmarshal(token.data, &t) != nil {
		return Raw{}, false
	}
	switch t.(type) {
	case string, float64, float32, int64, uint64, *big.Int:
		return token, true
	}
	return Raw{}, false
}

// progressSinks holds the callers waiting for partial results, by token.
// Tokens are unique in the process; a sink answers only to its own peer.
var (
	progressSinks  sync.Map // int64 → *progressSink
	progressTokens atomic.Int64
)

type progressSink struct {
	p      *Peer
	ch     chan Raw
	closed chan struct{} // closed when the caller stops taking values
}

// CallWithProgress calls method on p as [Peer.Call] does, asking for
// partial results: each one the other end sends is passed to fn, in the
// order sent, on the calling goroutine, before CallWithProgress returns.
// The call still ends with one answer, decoded into result.
//
// Parley picks the token and adds it to params as the member
// "partialResultToken" (replacing one already there). params must
// therefore be nil or encode as an object (a struct or a map); otherwise
// the call is not made and the error wraps [ErrProgressParams]. The JSON
// and CBOR codecs can add the member; with another codec, put the member
// in params yourself and use [Peer.Call] with a handler for "$/progress".
//
// A partial result that arrives while fn is busy waits in a short queue;
// when that is full the peer stops reading until fn returns, so fn must
// not wait for p's other calls. Partial results that arrive after the
// answer, or after ctx ended, are dropped. Cancelling ctx cancels the call
// on the other end ($/cancelRequest), which stops its partial results too.
func CallWithProgress(ctx context.Context, p *Peer, method string, params, result any, fn func(Raw)) error {
	if fn == nil {
		return p.Call(ctx, method, params, result)
	}
	token := progressTokens.Add(1)
	withToken, err := addProgressToken(p.codec, params, token)
	if err != nil {
		return fmt.Errorf("rpc: %s: %w", method, err)
	}
	sink := &progressSink{p: p, ch: make(chan Raw, progressQueue), closed: make(chan struct{})}
	progressSinks.Store(token, sink)
	defer func() {
		progressSinks.Delete(token)
		close(sink.closed)
	}()
	done := make(chan error, 1)
	go func() { done <- p.Call(ctx, method, withToken, result) }()
	for {
		select {
		case v := <-sink.ch:
			fn(v)
		case err := <-done:
			// Whatever preceded the answer is in the queue by now.
			for {
				select {
				case v := <-sink.ch:
					fn(v)
				default:
					return err
				}
			}
		}
	}
}

// addProgressToken returns params, encoded with c, with the member
// partialResultToken set to token.
func addProgressToken(c codec.Codec, params any, token int64) (Raw, error) {
	if n := c.Name(); n != "json" && n != "cbor" {
		return Raw{}, fmt.Errorf("%w: the %s codec cannot add the token; add it to the params yourself", ErrProgressParams, n)
	}
	tok, err := EncodeRaw(c, token)
	if err != nil {
		return Raw{}, err
	}
	members := map[string]Raw{}
	if params != nil {
		enc, err := EncodeRaw(c, params)
		if err != nil {
			return Raw{}, err
		}
		if err := c.Unmarshal(enc.data, &members); err != nil {
			return Raw{}, fmt.Errorf("%w: %v", ErrProgressParams, err)
		}
		if members == nil { // null
			members = map[string]Raw{}
		}
	}
	members[ProgressTokenMember] = tok
	return EncodeRaw(c, members)
}

// deliverProgress hands a $/progress notification's value to the caller
// waiting for it; one for no caller of ours is dropped.
func (p *Peer) deliverProgress(m *codec.Message) {
	var v struct {
		Token int64 `json:"token"`
		Value Raw   `json:"value"`
	}
	if m.Params == nil || p.codec.Unmarshal(m.Params, &v) != nil {
		return
	}
	s, ok := progressSinks.Load(v.Token)
	if !ok || s.(*progressSink).p != p {
		return
	}
	sink := s.(*progressSink)
	select {
	case sink.ch <- v.Value.bind(p.codec):
	case <-sink.closed:
	case <-p.quit:
	}
}
