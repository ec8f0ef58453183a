package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// Call calls method on the client with the given id, on whichever node
// holds it, and decodes the result into result (a pointer; nil discards
// it). A client of this node is called directly, exactly as
// [rpc.PeerSet.Call] does. For a client on another node the call travels
// over NATS and ends with the client's answer, its error (an [*rpc.Error]
// for which [rpc.IsRemote] holds), ctx's error (the holding node then
// cancels the client's call), a deadline of Options.Timeout when ctx has
// none, an error wrapping [rpc.ErrConnectionLost] when the client's
// connection ended before it answered, or [ErrUnreachable].
func (n *Node) Call(ctx context.Context, id, method string, params, result any) error {
	if p, ok := n.peers.Get(id); ok {
		return p.Call(ctx, method, params, result)
	}
	return n.remote(ctx, opCall, id, method, params, result)
}

// Notify sends a notification to the client with the given id, on
// whichever node holds it. For a client on another node it returns once
// that node has handed the notification to the client's connection, with
// the same errors as [Node.Call] otherwise.
func (n *Node) Notify(ctx context.Context, id, method string, params any) error {
	if p, ok := n.peers.Get(id); ok {
		return p.Notify(ctx, method, params)
	}
	return n.remote(ctx, opNotify, id, method, params, nil)
}

// remote sends a call or notification to the node holding id and waits
// for its answer.
func (n *Node) remote(ctx context.Context, op byte, id, method string, params, result any) error {
	if err := n.linkErr(); err != nil {
		return fmt.Errorf("parley nats: %s to %q: %w", method, id, err)
	}
	holder, codecName := n.pres.holder(id)
	c := n.codec(codecName)
	if c == nil {
		c = n.s.Codec
	}
	enc, err := encodeParams(c, params)
	if err != nil {
		return fmt.Errorf("parley nats: %s: %w", method, err)
	}
	ctx, stop := n.bound(ctx, 0)
	defer stop()
	key, reply, pend, err := n.inbox.add(holder)
	if err != nil {
		return fmt.Errorf("parley nats: %s to %q: %w", method, id, err)
	}
	defer n.inbox.remove(key)
	q := request{op: op, origin: n.name, key: key, method: method, timeout: timeLeft(ctx), params: enc}
	if err := n.publish(n.subj.peerSubject(id), reply, q.append(nil)); err != nil {
		return fmt.Errorf("parley nats: %s to %q: %w: %w", method, id, ErrUnreachable, err)
	}
	for {
		select {
		case <-ctx.Done():
			n.sendCancel(key)
			return fmt.Errorf("parley nats: %s to %q: %w", method, id, ctx.Err())
		case <-pend.wake:
		}
		msgs, gone, err := pend.take()
		for _, m := range msgs {
			if isNoResponders(m) {
				return fmt.Errorf("parley nats: %s: %w: %w: %q", method, ErrUnreachable, rpc.ErrUnknownPeer, id)
			}
			a, err := decodeAnswers(m.Data)
			if err != nil || len(a.list) != 1 {
				return fmt.Errorf("parley nats: %s to %q: a malformed answer from node %q: %v", method, id, a.node, err)
			}
			n.pres.alive(a.node)
			return n.outcome(method, id, a.node, &a.list[0], result)
		}
		if err != nil {
			return fmt.Errorf("parley nats: %s to %q: %w", method, id, err)
		}
		if len(gone) > 0 {
			return fmt.Errorf("parley nats: %s to %q: %w: its node %s left the cluster", method, id, ErrUnreachable, gone[0])
		}
	}
}

// outcome turns an answer into what Call returns, decoding a result into
// result.
func (n *Node) outcome(method, id, node string, a *answer, result any) error {
	switch a.status {
	case statusOK:
		if result == nil || a.value.codec == "" {
			return nil
		}
		c := n.codec(a.value.codec)
		if c == nil {
			return fmt.Errorf("parley nats: %s to %q: the result is in codec %q, which this node does not know (Options.Codecs)", method, id, a.value.codec)
		}
		if err := c.Unmarshal(a.value.data, result); err != nil {
			return fmt.Errorf("parley nats: %s to %q: decoding the result: %w", method, id, err)
		}
		return nil
	case statusError:
		var data any
		if len(a.value.data) > 0 {
			if c := n.codec(a.value.codec); c != nil {
				data = rpc.NewRaw(c, a.value.data)
			}
		}
		return rpc.RemoteError(rpc.Code(a.code), a.message, data)
	case statusUnreachable:
		return fmt.Errorf("parley nats: %s: %w: %w: %q", method, ErrUnreachable, rpc.ErrUnknownPeer, id)
	case statusLost:
		return fmt.Errorf("parley nats: %s to %q: %w (on node %s: %s)", method, id, rpc.ErrConnectionLost, node, a.message)
	default:
		return fmt.Errorf("parley nats: %s to %q: node %s: %s", method, id, node, a.message)
	}
}

func isNoResponders(m *natsgo.Msg) bool {
	return len(m.Data) == 0 && m.Header.Get("Status") == "503"
}

// bound gives ctx a deadline: timeout if not zero, else Options.Timeout
// when ctx has none.
func (n *Node) bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, n.s.Timeout)
}

// timeLeft is what remains of ctx's deadline, at least a millisecond.
func timeLeft(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return max(time.Until(d), time.Millisecond)
}

// sendCancel tells the other nodes that this node gave up on call key.
func (n *Node) sendCancel(key uint64) {
	if n.nc.IsConnected() {
		n.publish(n.subj.cancel, "", cancel{origin: n.name, key: key}.append(nil))
	}
}

// encodeParams encodes params with c. An rpc.Raw goes as it is, in its own
// codec.
func encodeParams(c codec.Codec, params any) ([]encoded, error) {
	if params == nil {
		return nil, nil
	}
	if raw, ok := params.(rpc.Raw); ok && raw.Codec() != nil {
		return []encoded{{codec: raw.Codec().Name(), data: raw.Bytes()}}, nil
	}
	b, err := c.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encoding params: %w", err)
	}
	if !structured(c.Name(), b) {
		return nil, fmt.Errorf("params must encode as an array or an object, not %T", params)
	}
	return []encoded{{codec: c.Name(), data: b}}, nil
}

// structured reports whether b, encoded by the named codec, is an array or
// an object (JSON-RPC 2.0's rule for params), for the codecs Parley ships;
// other codecs are trusted.
func structured(codecName string, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch codecName {
	case "json":
		for _, c := range b {
			switch c {
			case ' ', '\t', '\r', '\n':
				continue
			case '[', '{':
				return true
			}
			return false
		}
		return false
	case "cbor":
		major := b[0] >> 5
		return major == 4 || major == 5
	}
	return true
}

// --- the holding node's side ---

// dispatch hands the messages of the clients' subjects to goroutines of
// their own, at most MaxInFlight at once.
func (n *Node) dispatch() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case m := <-n.peerMsgs:
			select {
			case n.inFlight <- struct{}{}:
			default:
				n.answer(m.Reply, &answer{status: statusFailed, message: "node busy: too many calls from other nodes at once"})
				continue
			}
			if !n.spawn(func() { n.serve(m); <-n.inFlight }) {
				return
			}
		}
	}
}

// spawn runs f on a goroutine the node waits for at Close; it reports
// false, and runs nothing, once the node is closing.
func (n *Node) spawn(f func()) bool {
	n.servedMu.Lock()
	defer n.servedMu.Unlock()
	if n.ctx.Err() != nil {
		return false
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

// serve runs one call or notification from another node on a client of
// this node, and answers it.
func (n *Node) serve(m *natsgo.Msg) {
	q, err := decodeRequest(m.Data)
	if err != nil || (q.op != opCall && q.op != opNotify) {
		n.log.Debug("parley nats: malformed request", "subject", m.Subject, "err", err)
		n.answer(m.Reply, &answer{status: statusFailed, message: "malformed request"})
		return
	}
	id, ok := n.subj.peerID(m.Subject)
	if !ok {
		n.answer(m.Reply, &answer{status: statusFailed, message: "malformed subject"})
		return
	}
	p, ok := n.peers.Get(id)
	if !ok {
		n.answer(m.Reply, &answer{status: statusUnreachable, message: "no such client on node " + n.name})
		return
	}
	ctx, done := n.track(q)
	defer done()
	a := n.run(ctx, p, q.op == opNotify, q.method, n.paramsFor(p.Codec(), q.params, nil))
	n.answer(m.Reply, &a)
}

// track gives a call from another node its context: ending with the node,
// with the caller's deadline, and with a cancel from the caller.
func (n *Node) track(q request) (context.Context, func()) {
	ctx, cancelCtx := context.WithCancel(n.ctx)
	stop := func() {}
	if q.timeout > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, q.timeout)
		stop = c2
	}
	k := cancel{origin: q.origin, key: q.key}
	n.servedMu.Lock()
	n.served[k] = cancelCtx
	n.servedMu.Unlock()
	return ctx, func() {
		n.servedMu.Lock()
		delete(n.served, k)
		n.servedMu.Unlock()
		stop()
		cancelCtx()
	}
}

// onCancel cancels a call from another node whose caller gave up.
func (n *Node) onCancel(m *natsgo.Msg) {
	c, err := decodeCancel(m.Data)
	if err != nil {
		return
	}
	n.servedMu.Lock()
	cancelCtx := n.served[c]
	n.servedMu.Unlock()
	if cancelCtx != nil {
		cancelCtx()
	}
}

// cancelServed cancels every call this node runs for other nodes (the link
// dropped: their answers could not get back).
func (n *Node) cancelServed() {
	n.servedMu.Lock()
	defer n.servedMu.Unlock()
	for _, c := range n.served {
		c()
	}
}

// paramCache holds params in one codec, decoded from another when no
// encoding in the request matched; it is per request.
type paramCache map[string]any

// paramsFor picks or makes the params for a client speaking c: the bytes
// as they came when one encoding is in c (no decoding), else the value
// decoded from an encoding this node knows (the peer encodes it again).
func (n *Node) paramsFor(c codec.Codec, params []encoded, cache paramCache) any {
	if len(params) == 0 {
		return nil
	}
	for _, e := range params {
		if e.codec == c.Name() {
			return rpc.NewRaw(c, e.data)
		}
	}
	if v, ok := cache[c.Name()]; ok {
		return v
	}
	var v any = errNoCodec
	for _, e := range params {
		if from := n.codec(e.codec); from != nil {
			var x any
			if err := from.Unmarshal(e.data, &x); err == nil {
				v = x
				break
			}
		}
	}
	if cache != nil {
		cache[c.Name()] = v
	}
	return v
}

// errNoCodec stands for params no codec of this node could decode.
var errNoCodec = errors.New("the params are in a codec this node does not know (Options.Codecs)")

// run calls or notifies p and turns the outcome into an answer.
func (n *Node) run(ctx context.Context, p *rpc.Peer, notify bool, method string, params any) answer {
	if err, ok := params.(error); ok {
		return answer{status: statusFailed, message: err.Error()}
	}
	if notify {
		if err := p.Notify(ctx, method, params); err != nil {
			return n.failure(err)
		}
		return answer{status: statusOK}
	}
	c := p.Codec()
	if !passThrough(c) {
		// Decode with the client's codec, encode with the node's.
		var v any
		if err := p.Call(ctx, method, params, &v); err != nil {
			return n.failure(err)
		}
		b, err := n.s.Codec.Marshal(v)
		if err != nil {
			return answer{status: statusFailed, message: "encoding the result: " + err.Error()}
		}
		return answer{status: statusOK, value: encoded{codec: n.s.Codec.Name(), data: b}}
	}
	var res rawResult
	if err := p.Call(ctx, method, params, &res); err != nil {
		return n.failure(err)
	}
	return answer{status: statusOK, value: encoded{codec: c.Name(), data: res.data}}
}

// failure turns a call's error into an answer.
func (n *Node) failure(err error) answer {
	var e *rpc.Error
	switch {
	case errors.As(err, &e) && e.Remote():
		a := answer{status: statusError, code: int64(e.Code), message: e.Message}
		if raw, ok := e.Data.(rpc.Raw); ok && raw.Codec() != nil {
			a.value = encoded{codec: raw.Codec().Name(), data: raw.Bytes()}
		}
		return a
	case errors.Is(err, rpc.ErrConnectionLost), errors.Is(err, rpc.ErrClosed):
		return answer{status: statusLost, message: err.Error()}
	default:
		return answer{status: statusFailed, message: err.Error()}
	}
}

// answer sends the one answer to a call from another node.
func (n *Node) answer(reply string, a *answer) {
	if reply == "" {
		return
	}
	b := appendAnswersHeader(nil, n.name, true, 1)
	n.publish(reply, "", a.append(b))
}

// rawResult takes a client's result as the bytes its codec wrote, to be
// passed on undecoded, for the codecs Parley ships (whose Unmarshal hands
// these methods the raw value).
type rawResult struct {
	data []byte
}

// UnmarshalJSON keeps the JSON result as it is.
func (r *rawResult) UnmarshalJSON(b []byte) error {
	r.data = append([]byte(nil), b...)
	return nil
}

// UnmarshalCBOR keeps the CBOR result as it is.
func (r *rawResult) UnmarshalCBOR(b []byte) error {
	r.data = append([]byte(nil), b...)
	return nil
}

func passThrough(c codec.Codec) bool {
	switch c.Name() {
	case "json", "cbor":
		return true
	}
	return false
}
