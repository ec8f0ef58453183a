package nats

import (
	"strconv"
	"strings"
	"sync"

	natsgo "github.com/nats-io/nats.go"
)

// pending is a request of this node waiting for answers on its inbox: one
// message for a call to one client, chunks from every node for CallAll.
// The inbox goroutine, the presence goroutine (a node left) and the status
// goroutine (the link dropped) feed it; the caller reads it. Nothing that
// feeds it blocks.
type pending struct {
	mu    sync.Mutex
	msgs  []*natsgo.Msg
	gone  []string // nodes that left the view while we waited
	err   error    // the link failed or the node closed: the end
	watch map[string]bool
	wake  chan struct{} // 1-buffered: something arrived
}

func (p *pending) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// watchNode adds a node whose loss ends the request.
func (p *pending) watchNode(node string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.watch == nil {
		p.watch = make(map[string]bool)
	}
	p.watch[node] = true
}

// take returns what arrived since the last take.
func (p *pending) take() (msgs []*natsgo.Msg, gone []string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	msgs, gone = p.msgs, p.gone
	p.msgs, p.gone = nil, nil
	return msgs, gone, p.err
}

// inbox routes answers to the pending requests of a node. Reply subjects
// are <inbox>.<key>, with inbox from the connection's NewInbox (so a
// custom inbox prefix, which NATS permissions may require, is honoured).
type inbox struct {
	prefix string // <inbox>.
	sub    *natsgo.Subscription

	mu      sync.Mutex
	next    uint64
	pending map[uint64]*pending
	err     error // set when the node closes: no new requests
}

func (in *inbox) subscribe(nc *natsgo.Conn) error {
	in.prefix = nc.NewInbox() + "."
	in.pending = make(map[uint64]*pending)
	sub, err := nc.Subscribe(in.prefix+"*", in.deliver)
	if err != nil {
		return err
	}
	// Answers can pile up under a large CallAll: no limit on the count,
	// 256 MB on the bytes before NATS calls us a slow consumer.
	if err := sub.SetPendingLimits(-1, 256<<20); err != nil {
		sub.Unsubscribe()
		return err
	}
	in.sub = sub
	return nil
}

// add registers a request watching the given nodes (their loss ends it)
// and returns its key and reply subject.
func (in *inbox) add(watch ...string) (uint64, string, *pending, error) {
	p := &pending{wake: make(chan struct{}, 1)}
	for _, n := range watch {
		if n != "" {
			p.watchNode(n)
		}
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.err != nil {
		return 0, "", nil, in.err
	}
	in.next++
	in.pending[in.next] = p
	return in.next, in.prefix + strconv.FormatUint(in.next, 10), p, nil
}

func (in *inbox) remove(key uint64) {
	in.mu.Lock()
	delete(in.pending, key)
	in.mu.Unlock()
}

func (in *inbox) deliver(m *natsgo.Msg) {
	key, err := strconv.ParseUint(strings.TrimPrefix(m.Subject, in.prefix), 10, 64)
	if err != nil {
		return
	}
	in.mu.Lock()
	p := in.pending[key]
	in.mu.Unlock()
	if p == nil {
		return // answered already, or given up on
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	p.signal()
}

// nodeGone tells every request watching node that it left.
func (in *inbox) nodeGone(node string) {
	in.mu.Lock()
	all := make([]*pending, 0, len(in.pending))
	for _, p := range in.pending {
		all = append(all, p)
	}
	in.mu.Unlock()
	var hit []*pending
	for _, p := range all {
		p.mu.Lock()
		if p.watch[node] {
			hit = append(hit, p)
		}
		p.mu.Unlock()
	}
	for _, p := range hit {
		p.mu.Lock()
		p.gone = append(p.gone, node)
		p.mu.Unlock()
		p.signal()
	}
}

// failAll ends every request with err; with final set, no request may be
// added afterwards.
func (in *inbox) failAll(err error, final bool) {
	in.mu.Lock()
	all := make([]*pending, 0, len(in.pending))
	for _, p := range in.pending {
		all = append(all, p)
	}
	if final {
		in.err = err
	}
	in.mu.Unlock()
	for _, p := range all {
		p.mu.Lock()
		if p.err == nil {
			p.err = err
		}
		p.mu.Unlock()
		p.signal()
	}
}
