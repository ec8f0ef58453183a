package nats

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// NewHub returns a hub ([hub.New] with opts, whose Cluster it sets) whose
// topics and routed calls span every node of the cluster: a publish on
// any node reaches the matching subscribers of every node, each once; a
// routed call reaches a procedure registered on any node, with the
// caller's cancellation and the callee's loss carried across. A node has
// at most one hub. Close the hub before the node.
//
// Topics map onto NATS subjects as they are (the hub's topics are NATS's
// tokens): a node subscribes to P.topic.<pattern> while it has a local
// subscriber of the pattern, and a publish goes to P.topic.<topic>. A
// node registers P.proc.<procedure> (base64url, in queue group "parley")
// while it has a local registrant: a routed call to a name with no
// registrant on the calling node goes to one node that has one, chosen by
// NATS, where the name's policy picks among that node's registrants.
//
// Publishes are at most once, in order from one node to another; a node
// that loses its link to NATS misses the publishes made meanwhile. A routed
// call runs at most once and ends as [hub.Hub.Call] says, or with
// [hub.CodeNoSuchProcedure] when no node has a registrant, or with
// [hub.CodeCalleeGone] when the callee's node leaves the cluster's view
// mid-call.
func (n *Node) NewHub(opts *hub.Options) (*hub.Hub, error) {
	var o hub.Options
	if opts != nil {
		o = *opts
	}
	l := &hubLink{n: n, events: make(chan *natsgo.Msg, 65536), wake: make(chan struct{}, 1),
		topics: map[string]*natsgo.Subscription{}, procs: map[string]*natsgo.Subscription{},
		last: map[string][2]uint64{}}
	var b [8]byte
	rand.Read(b[:])
	l.epoch = binary.LittleEndian.Uint64(b[:])
	o.Cluster = l
	h, err := hub.New(&o)
	if err != nil {
		return nil, err
	}
	l.h = h
	if !n.hub.CompareAndSwap(nil, l) {
		h.Close()
		return nil, errors.New("parley nats: NewHub: the node has a hub already")
	}
	if !n.spawn(l.loop) {
		h.Close()
		return nil, ErrClosed
	}
	return h, nil
}

// hubLink is a hub's [hub.Cluster]: it keeps the node's NATS interest in
// line with the hub's subscriptions and registrations, and carries
// publishes and routed calls.
type hubLink struct {
	n      *Node
	h      *hub.Hub
	epoch  uint64
	seq    atomic.Uint64
	events chan *natsgo.Msg // P.topic.* messages, in arrival order

	mu   sync.Mutex
	ops  []hubOp // interest changes, in the hub's order
	wake chan struct{}

	// Owned by loop.
	topics map[string]*natsgo.Subscription
	procs  map[string]*natsgo.Subscription
	last   map[string][2]uint64 // origin -> epoch, seq of the last event delivered
}

type hubOp struct {
	add   bool
	topic bool // else a procedure
	name  string
}

var _ hub.Cluster = (*hubLink)(nil)

func (l *hubLink) queue(op hubOp) {
	l.mu.Lock()
	l.ops = append(l.ops, op)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// The interest hooks run under the hub's lock: they only queue.

func (l *hubLink) Subscribed(pattern string)   { l.queue(hubOp{add: true, topic: true, name: pattern}) }
func (l *hubLink) Unsubscribed(pattern string) { l.queue(hubOp{topic: true, name: pattern}) }
func (l *hubLink) Registered(procedure string, _ hub.Policy) {
	l.queue(hubOp{add: true, name: procedure})
}
func (l *hubLink) Unregistered(procedure string) { l.queue(hubOp{name: procedure}) }

func (l *hubLink) topicSubject(topic string) string { return l.n.s.Prefix + ".topic." + topic }
func (l *hubLink) procSubject(name string) string {
	return l.n.s.Prefix + ".proc." + base64.RawURLEncoding.EncodeToString([]byte(name))
}

// loop applies interest changes and delivers other nodes' publishes.
func (l *hubLink) loop() {
	defer func() {
		for _, s := range l.topics {
			s.Unsubscribe()
		}
		for _, s := range l.procs {
			s.Unsubscribe()
		}
	}()
	for {
		select {
		case <-l.n.ctx.Done():
			return
		case <-l.wake:
			l.mu.Lock()
			ops := l.ops
			l.ops = nil
			l.mu.Unlock()
			for _, op := range ops {
				l.apply(op)
			}
		case m := <-l.events:
			l.deliver(m)
		}
	}
}

func (l *hubLink) apply(op hubOp) {
	subs, subject := l.procs, l.procSubject(op.name)
	if op.topic {
		subs, subject = l.topics, l.topicSubject(op.name)
	}
	if !op.add {
		if s := subs[op.name]; s != nil {
			s.Unsubscribe()
			delete(subs, op.name)
		}
		return
	}
	if subs[op.name] != nil {
		return
	}
	var (
		s   *natsgo.Subscription
		err error
	)
	if op.topic {
		s, err = l.n.nc.ChanSubscribe(subject, l.events)
	} else {
		s, err = l.n.nc.QueueSubscribe(subject, queueGroup, l.onCall)
	}
	if err != nil {
		l.n.log.Warn("parley nats: hub: cannot subscribe", "subject", subject, "err", err)
		return
	}
	subs[op.name] = s
}

// Publish sends a publish made on this node to the other nodes.
func (l *hubLink) Publish(topic string, data any) error {
	n := l.n
	e := hubEvent{origin: n.name, epoch: l.epoch, seq: l.seq.Add(1)}
	if data != nil {
		enc, err := l.encode(data)
		if err != nil {
			return fmt.Errorf("parley nats: hub publish to %q: %w", topic, err)
		}
		e.data = enc
	}
	if err := n.linkErr(); err != nil {
		return fmt.Errorf("parley nats: hub publish to %q: %w", topic, err)
	}
	return n.publish(l.topicSubject(topic), "", e.append(nil))
}

// encode encodes a publish's data or a routed call's params.
func (l *hubLink) encode(v any) (encoded, error) {
	if raw, ok := v.(rpc.Raw); ok {
		if raw.Codec() == nil {
			return encoded{}, errors.New("a Raw value without its codec")
		}
		return encoded{codec: raw.Codec().Name(), data: raw.Bytes()}, nil
	}
	b, err := l.n.s.Codec.Marshal(v)
	if err != nil {
		return encoded{}, err
	}
	return encoded{codec: l.n.s.Codec.Name(), data: b}, nil
}

// raw turns an encoded value back into an rpc.Raw.
func (l *hubLink) raw(e encoded) (rpc.Raw, error) {
	c := l.n.codec(e.codec)
	if c == nil {
		return rpc.Raw{}, fmt.Errorf("a value in codec %q, which this node does not know (Options.Codecs)", e.codec)
	}
	return rpc.NewRaw(c, e.data), nil
}

// deliver hands another node's publish to the local subscribers, once
// however many of this node's patterns matched it.
func (l *hubLink) deliver(m *natsgo.Msg) {
	e, err := decodeEvent(m.Data)
	if err != nil || e.origin == l.n.name {
		return
	}
	last, seen := l.last[e.origin]
	if seen && last[0] == e.epoch && e.seq <= last[1] {
		return // the same publish through another matching subscription
	}
	l.last[e.origin] = [2]uint64{e.epoch, e.seq}
	topic := m.Subject[len(l.n.s.Prefix)+len(".topic."):]
	var data any
	if len(e.data.data) > 0 {
		r, err := l.raw(e.data)
		if err != nil {
			l.n.log.Debug("parley nats: hub event dropped", "err", err)
			return
		}
		data = r
	}
	l.h.Deliver(topic, data)
}

// Call sends a routed call to a node with a registrant of procedure.
func (l *hubLink) Call(ctx context.Context, procedure string, params, result any, progress func(rpc.Raw)) error {
	n := l.n
	if err := n.linkErr(); err != nil {
		return fmt.Errorf("parley nats: hub call to %q: %w", procedure, err)
	}
	q := request{op: opRouted, origin: n.name, method: procedure}
	if progress != nil {
		q.op = opProgress
	}
	if params != nil {
		enc, err := l.encode(params)
		if err != nil {
			return fmt.Errorf("parley nats: hub call to %q: %w", procedure, err)
		}
		q.params = []encoded{enc}
	}
	ctx, stop := n.bound(ctx, 0)
	defer stop()
	key, reply, pend, err := n.inbox.add()
	if err != nil {
		return fmt.Errorf("parley nats: hub call to %q: %w", procedure, err)
	}
	defer n.inbox.remove(key)
	q.key, q.timeout = key, timeLeft(ctx)
	if err := n.publish(l.procSubject(procedure), reply, q.append(nil)); err != nil {
		return fmt.Errorf("parley nats: hub call to %q: %w: %w", procedure, ErrUnreachable, err)
	}
	for {
		select {
		case <-ctx.Done():
			n.sendCancel(key)
			return fmt.Errorf("parley nats: hub call to %q: %w", procedure, context.Cause(ctx))
		case <-pend.wake:
		}
		msgs, gone, err := pend.take()
		for _, m := range msgs {
			if isNoResponders(m) {
				return &rpc.Error{Code: hub.CodeNoSuchProcedure, Message: fmt.Sprintf("hub: no callee registered for %q on any node", procedure)}
			}
			a, derr := decodeAnswers(m.Data)
			if derr != nil {
				return fmt.Errorf("parley nats: hub call to %q: a malformed answer: %w", procedure, derr)
			}
			if !a.final {
				pend.watchNode(a.node) // the serving node: its loss ends the call
				for i := range a.list {
					if x := &a.list[i]; x.status == statusPartial && progress != nil {
						if r, err := l.raw(x.value); err == nil {
							progress(r)
						}
					}
				}
				continue
			}
			if len(a.list) != 1 {
				return fmt.Errorf("parley nats: hub call to %q: a malformed answer from node %s", procedure, a.node)
			}
			return l.outcome(procedure, a.node, &a.list[0], result)
		}
		if err != nil {
			return fmt.Errorf("parley nats: hub call to %q: %w", procedure, err)
		}
		if len(gone) > 0 {
			return &rpc.Error{Code: hub.CodeCalleeGone, Message: fmt.Sprintf("hub: the node of the callee of %q (%s) left the cluster", procedure, gone[0])}
		}
	}
}

func (l *hubLink) outcome(procedure, node string, a *answer, result any) error {
	switch a.status {
	case statusOK:
		if result == nil || a.value.codec == "" {
			return nil
		}
		r, err := l.raw(a.value)
		if err != nil {
			return fmt.Errorf("parley nats: hub call to %q: %w", procedure, err)
		}
		if p, ok := result.(*rpc.Raw); ok {
			*p = r
			return nil
		}
		return r.Decode(result)
	case statusHubError:
		e := &rpc.Error{Code: rpc.Code(a.code), Message: a.message}
		if r, err := l.raw(a.value); err == nil && len(a.value.data) > 0 {
			e.Data = r
		}
		return e
	}
	return l.n.outcome(procedure, "", node, a, result)
}

// onCall serves a routed call from another node.
func (l *hubLink) onCall(m *natsgo.Msg) {
	q, err := decodeRequest(m.Data)
	if err != nil || (q.op != opRouted && q.op != opProgress) || m.Reply == "" {
		return
	}
	for i := range q.params {
		q.params[i].data = append([]byte(nil), q.params[i].data...)
	}
	l.n.spawn(func() { l.serve(m.Reply, q) })
}

func (l *hubLink) serve(reply string, q request) {
	n := l.n
	ctx, done := n.track(q)
	defer done()
	// First, say who serves the call: the caller watches this node.
	n.publish(reply, "", appendAnswersHeader(nil, n.name, false, 0))
	var params any
	if len(q.params) > 0 {
		r, err := l.raw(q.params[0])
		if err != nil {
			n.answer(reply, &answer{status: statusFailed, message: err.Error()})
			return
		}
		params = r
	}
	var progress func(rpc.Raw)
	if q.op == opProgress {
		progress = func(v rpc.Raw) {
			if v.Codec() == nil {
				return
			}
			a := answer{status: statusPartial, value: encoded{codec: v.Codec().Name(), data: v.Bytes()}}
			n.publish(reply, "", a.append(appendAnswersHeader(nil, n.name, false, 0)))
		}
	}
	var result rpc.Raw
	err := l.h.CallLocal(ctx, q.method, params, &result, progress)
	var a answer
	var e *rpc.Error
	switch {
	case err == nil:
		a.status = statusOK
		if !result.IsZero() && result.Codec() != nil {
			a.value = encoded{codec: result.Codec().Name(), data: result.Bytes()}
		}
	case errors.As(err, &e) && !e.Remote():
		a = answer{status: statusHubError, code: int64(e.Code), message: e.Message}
		if r, ok := e.Data.(rpc.Raw); ok && r.Codec() != nil {
			a.value = encoded{codec: r.Codec().Name(), data: r.Bytes()}
		}
	default:
		a = n.failure(err)
	}
	n.answer(reply, &a)
}
