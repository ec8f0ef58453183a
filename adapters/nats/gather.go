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

// Reply is one client's outcome of [CallAll] or [Node.NotifyAll].
type Reply[R any] struct {
	ID     string // the client's id
	Node   string // the name of the node that holds it
	Result R      // CallAll: the client's result
	Err    error
}

// CallAll calls method on every client of every node at once and gathers
// every answer. Each call is bounded by timeout from when its node starts
// it (zero: Options.Timeout, unless ctx has a deadline), so one slow
// client fails alone while the rest answer.
//
// Every node runs the calls for its own clients and streams the answers
// back, in chunks; the last chunk of each node says how many it sent.
// CallAll returns when every node it knew of when it began has sent its
// last chunk, when ctx ends, or at timeout plus Options.Grace, whichever
// comes first: a node that has not finished by then, or that leaves the
// cluster's view meanwhile, has every client of it that did not answer
// reported with [ErrUnreachable] (as the view listed them when CallAll
// began). Answers from a node that joined since are kept if they arrive in
// time. There is one reply per client, in no particular order.
func CallAll[R any](ctx context.Context, n *Node, method string, params any, timeout time.Duration) []Reply[R] {
	return gather(ctx, n, false, method, params, timeout, func(r *Reply[R], c codec.Codec, data []byte) error {
		return c.Unmarshal(data, &r.Result)
	}, func(ctx context.Context) []rpc.Reply[R] {
		return rpc.CallAll[R](ctx, n.peers, method, params, 0)
	})
}

// NotifyAll sends a notification to every client of every node, each send
// bounded by its own timeout, and returns one reply per client (Result
// unused). It waits, and reports the nodes that did not finish, as
// [CallAll] does.
func (n *Node) NotifyAll(ctx context.Context, method string, params any, timeout time.Duration) []Reply[struct{}] {
	return gather(ctx, n, true, method, params, timeout, nil, func(ctx context.Context) []rpc.Reply[struct{}] {
		return n.peers.NotifyAll(ctx, method, params, 0)
	})
}

// gather runs a CallAll or NotifyAll: the local part through the PeerSet,
// the rest through P.all.
func gather[R any](ctx context.Context, n *Node, notify bool, method string, params any, timeout time.Duration,
	decode func(r *Reply[R], c codec.Codec, data []byte) error,
	local func(ctx context.Context) []rpc.Reply[R]) []Reply[R] {
	ctx, stop := n.bound(ctx, timeout)
	defer stop()
	perCall := timeLeft(ctx)

	localDone := make(chan []rpc.Reply[R], 1)
	go func() { localDone <- local(ctx) }()

	expected := n.pres.snapshot() // node -> its ids
	// One reply per client: room for all at once, not grown 30,000 times.
	size := n.peers.Len()
	for _, ids := range expected {
		size += len(ids)
	}
	replies := make([]Reply[R], 0, size)
	fail := func(node, id string, err error) {
		replies = append(replies, Reply[R]{ID: id, Node: node, Err: err})
	}
	failNode := func(node string, seen map[string]bool, err error) {
		for _, id := range expected[node] {
			if !seen[id] {
				fail(node, id, err)
			}
		}
	}
	remote := func() {
		if err := n.linkErr(); err != nil {
			for node := range expected {
				failNode(node, nil, err)
			}
			return
		}
		watch := make([]string, 0, len(expected))
		for node := range expected {
			watch = append(watch, node)
		}
		key, reply, pend, err := n.inbox.add(watch...)
		if err != nil {
			for node := range expected {
				failNode(node, nil, err)
			}
			return
		}
		defer n.inbox.remove(key)
		var encs []encoded
		for _, c := range n.s.codecs {
			e, err := encodeParams(c, params)
			if err != nil {
				for node := range expected {
					failNode(node, nil, fmt.Errorf("parley nats: %s: %w", method, err))
				}
				return
			}
			encs = append(encs, e...)
			if _, ok := params.(rpc.Raw); ok {
				break // one encoding, its own
			}
		}
		op := byte(opCallAll)
		if notify {
			op = opNotifyAll
		}
		q := request{op: op, origin: n.name, key: key, method: method, timeout: perCall, params: encs}
		if err := n.publish(n.subj.all, reply, q.append(nil)); err != nil {
			for node := range expected {
				failNode(node, nil, fmt.Errorf("%w: %w", ErrUnreachable, err))
			}
			return
		}
		// Answers count until the calls' deadline plus the grace, or until
		// the caller cancels.
		wait, stopWait := context.WithTimeout(context.WithoutCancel(ctx), perCall+n.s.Grace)
		defer stopWait()
		defer context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.Canceled) {
				stopWait()
			}
		})()
		seen := make(map[string]map[string]bool) // node -> ids answered
		got := make(map[string]uint64)           // node -> answers received
		finished := make(map[string]bool)
		pendingNodes := len(expected)
		for pendingNodes > 0 {
			select {
			case <-wait.Done():
				n.sendCancel(key)
				for node := range expected {
					if finished[node] {
						continue
					}
					err := fmt.Errorf("%w: node %s did not answer in time", ErrUnreachable, node)
					if errors.Is(ctx.Err(), context.Canceled) {
						err = fmt.Errorf("parley nats: %s: %w", method, ctx.Err())
					}
					failNode(node, seen[node], err)
				}
				return
			case <-pend.wake:
			}
			msgs, gone, err := pend.take()
			for _, m := range msgs {
				a, err := decodeAnswers(m.Data)
				if err != nil || a.node == n.name {
					continue
				}
				n.pres.alive(a.node)
				if seen[a.node] == nil {
					seen[a.node] = make(map[string]bool)
				}
				for i := range a.list {
					x := &a.list[i]
					if seen[a.node][x.id] {
						continue // never twice for one client
					}
					seen[a.node][x.id] = true
					got[a.node]++
					r := Reply[R]{ID: x.id, Node: a.node}
					r.Err = n.outcome(method, x.id, a.node, x, nil)
					if r.Err == nil && decode != nil && x.value.codec != "" {
						if c := n.codec(x.value.codec); c == nil {
							r.Err = fmt.Errorf("parley nats: %s to %q: result in unknown codec %q", method, x.id, x.value.codec)
						} else if err := decode(&r, c, x.value.data); err != nil {
							r.Err = fmt.Errorf("parley nats: %s to %q: decoding the result: %w", method, x.id, err)
						}
					}
					replies = append(replies, r)
				}
				if a.final && !finished[a.node] {
					finished[a.node] = true
					if _, ok := expected[a.node]; ok {
						pendingNodes--
					}
					if got[a.node] < a.total {
						failNode(a.node, seen[a.node], fmt.Errorf("%w: an answer from node %s was lost", ErrUnreachable, a.node))
					}
				}
			}
			for _, node := range gone {
				if _, ok := expected[node]; ok && !finished[node] {
					finished[node] = true
					pendingNodes--
					failNode(node, seen[node], fmt.Errorf("%w: node %s left the cluster", ErrUnreachable, node))
				}
			}
			if err != nil {
				for node := range expected {
					if !finished[node] {
						finished[node] = true
						pendingNodes--
						failNode(node, seen[node], err)
					}
				}
			}
		}
	}
	remote()
	for _, r := range <-localDone {
		replies = append(replies, Reply[R]{ID: r.ID, Node: n.name, Result: r.Result, Err: r.Err})
	}
	return replies
}

// onAll serves another node's CallAll or NotifyAll on this node's
// clients.
func (n *Node) onAll(m *natsgo.Msg) {
	q, err := decodeRequest(m.Data)
	if err != nil || (q.op != opCallAll && q.op != opNotifyAll) || q.origin == n.name || m.Reply == "" {
		return
	}
	// The message aliases a buffer of NATS's: keep the params past the handler.
	for i := range q.params {
		q.params[i].data = append([]byte(nil), q.params[i].data...)
	}
	n.spawn(func() { n.serveAll(m.Reply, q) })
}

// maxChunk bounds a chunk of answers, well under NATS's default 1 MB
// payload limit.
const maxChunk = 256 << 10

// serveAll calls every client of this node and streams the answers back.
func (n *Node) serveAll(reply string, q request) {
	ctx, done := n.track(q)
	defer done()
	ids := n.peers.IDs()
	type one struct {
		id string
		a  answer
	}
	out := make(chan one, len(ids))
	cache := paramCache{}
	started := 0
	for _, id := range ids {
		p, ok := n.peers.Get(id)
		if !ok {
			continue
		}
		params := n.paramsFor(p.Codec(), q.params, cache)
		started++
		go func() {
			out <- one{id, n.run(ctx, p, q.op == opNotifyAll, q.method, params)}
		}()
	}
	limit := maxChunk
	if mp := int(n.nc.MaxPayload()); mp > 0 && mp/2 < limit {
		limit = mp / 2
	}
	buf := appendAnswersHeader(nil, n.name, false, 0)
	head := len(buf)
	count := 0
	for i := range started {
		o := <-out
		o.a.id = o.id
		buf = o.a.append(buf)
		count++
		// Send when the chunk is full, or when no answer waits: answers
		// stream back as they come, in as few messages as they allow.
		if i+1 < started && (len(buf) >= limit || len(out) == 0) {
			n.publish(reply, "", buf)
			buf = appendAnswersHeader(buf[:0:0], n.name, false, 0)
		}
	}
	final := appendAnswersHeader(nil, n.name, true, uint64(count))
	n.publish(reply, "", append(final, buf[head:]...))
}
