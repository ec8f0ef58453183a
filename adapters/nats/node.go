package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// ErrUnreachable ends a call or notification to a client that no node
// holds: none subscribed for its id (NATS said "no responders"), its node
// let go of it or left the cluster's view while the call waited, or this
// node's link to NATS is down. The call may or may not have run when the
// node left or the link dropped mid-call; it has not run in the other
// cases. Errors for an unknown id also wrap [rpc.ErrUnknownPeer].
var ErrUnreachable = errors.New("parley nats: peer unreachable")

// ErrClosed is returned by a [Node]'s methods after Close, and ends the
// calls waiting when it is called. It wraps net.ErrClosed.
var ErrClosed = fmt.Errorf("parley nats: node closed: %w", net.ErrClosed)

// Node connects a server's [rpc.PeerSet] to the other nodes of a cluster
// through NATS, so that any node can call or notify any client, call or
// notify all of them, and see which clients are connected where. See the
// package documentation for the subjects, the messages and the
// guarantees.
type Node struct {
	s       settings
	name    string
	nc      *natsgo.Conn
	ownConn bool
	peers   *rpc.PeerSet
	subj    subjects
	log     *slog.Logger

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	close  sync.Once

	status    chan natsgo.Status
	inbox     inbox
	subs      []*natsgo.Subscription // P.all, P.cancel, P.node.<name>.sync
	peerMsgs  chan *natsgo.Msg       // what the P.peer.<id> subscriptions receive
	inFlight  chan struct{}          // a slot per call being served
	stopWatch func()

	servedMu sync.Mutex
	served   map[cancel]context.CancelFunc // calls from other nodes, by origin and key

	pres presenceState
	hub  atomic.Pointer[hubLink] // set by NewHub
}

// NewNode joins the cluster: it connects (or takes opts.Conn), starts
// answering for the peers in peers, and announces them. peers is the set
// the node's adapters add their connections to; the node follows it with
// [rpc.PeerSet.Watch], leaving its hooks to you.
func NewNode(peers *rpc.PeerSet, opts *Options) (*Node, error) {
	s, err := opts.settings(peers)
	if err != nil {
		return nil, err
	}
	n := &Node{
		s:        s,
		name:     s.Name,
		peers:    peers,
		subj:     newSubjects(s.Prefix),
		log:      s.Logger.With("node", s.Name),
		peerMsgs: make(chan *natsgo.Msg, 16384),
		inFlight: make(chan struct{}, s.MaxInFlight),
		served:   make(map[cancel]context.CancelFunc),
	}
	n.nc = s.Conn
	if n.nc == nil {
		connect := append([]natsgo.Option{
			natsgo.Name("parley node " + s.Name),
			natsgo.MaxReconnects(-1),
			natsgo.ReconnectWait(250 * time.Millisecond),
		}, s.NATS...)
		if n.nc, err = natsgo.Connect(s.URL, connect...); err != nil {
			return nil, fmt.Errorf("parley nats: connecting to %s: %w", s.URL, err)
		}
		n.ownConn = true
	}
	if !n.nc.HeadersSupported() {
		n.closeConn()
		return nil, errors.New("parley nats: the NATS server does not support headers (2.2 or later needed, for no-responders answers)")
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.status = n.nc.StatusChanged(natsgo.CONNECTED, natsgo.DISCONNECTED, natsgo.RECONNECTING, natsgo.CLOSED)
	n.pres.init(n)
	if err := n.subscribe(); err != nil {
		n.shutdown(false)
		return nil, fmt.Errorf("parley nats: subscribing: %w", err)
	}
	n.stopWatch = peers.Watch(func(id string, _ *rpc.Peer, _ bool) { n.pres.markDirty(id) })
	for _, id := range peers.IDs() {
		n.pres.markDirty(id)
	}
	n.wg.Add(3)
	go n.dispatch()
	go n.pres.loop()
	go n.watchStatus()
	return n, nil
}

// subscribe makes the node's fixed subscriptions.
func (n *Node) subscribe() error {
	if err := n.inbox.subscribe(n.nc); err != nil {
		return err
	}
	for subject, handle := range map[string]natsgo.MsgHandler{
		n.subj.all:          n.onAll,
		n.subj.cancel:       n.onCancel,
		n.subj.sync(n.name): n.pres.onSync,
		n.subj.ping(n.name): n.pres.onPing,
	} {
		sub, err := n.nc.Subscribe(subject, handle)
		if err != nil {
			return err
		}
		n.subs = append(n.subs, sub)
	}
	// Presence goes to the presence goroutine through a channel: when it
	// overflows, NATS drops messages, the next heartbeat shows the gap and
	// a sync repairs it.
	sub, err := n.nc.ChanSubscribe(n.subj.presence, n.pres.in)
	if err != nil {
		return err
	}
	n.subs = append(n.subs, sub)
	return n.nc.FlushTimeout(5 * time.Second)
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Peers returns the node's own set of peers.
func (n *Node) Peers() *rpc.PeerSet { return n.peers }

// Close leaves the cluster: it tells the other nodes (which then drop this
// node's clients from their view at once), ends the calls this node waits
// for with [ErrClosed], cancels the calls it runs for other nodes, and
// closes the connection if the node opened it. The node's own peers stay
// connected; close them through their server. Close is idempotent.
func (n *Node) Close() error {
	n.shutdown(true)
	return nil
}

func (n *Node) shutdown(bye bool) {
	n.close.Do(func() {
		if n.stopWatch != nil {
			n.stopWatch()
		}
		n.servedMu.Lock() // no goroutine starts after this (see spawn)
		n.cancel()
		n.servedMu.Unlock()
		n.inbox.failAll(ErrClosed, true)
		n.wg.Wait() // the presence loop has unsubscribed the clients' subjects
		for _, s := range n.subs {
			s.Unsubscribe()
		}
		if n.inbox.sub != nil {
			n.inbox.sub.Unsubscribe()
		}
		if bye {
			n.pres.sayBye()
		}
		n.nc.RemoveStatusListener(n.status)
		n.closeConn()
	})
}

func (n *Node) closeConn() {
	if n.ownConn {
		n.nc.Close()
	} else if n.nc.IsConnected() {
		n.nc.FlushTimeout(time.Second)
	}
}

// watchStatus follows the connection's state: when the link drops, the
// calls waiting on other nodes cannot be answered any more (an answer
// sent meanwhile is lost), so they end at once, and so do the calls this
// node runs for others.
func (n *Node) watchStatus() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case st, ok := <-n.status:
			if !ok {
				return
			}
			switch st {
			case natsgo.CONNECTED:
				n.pres.reconnected()
			default:
				err := fmt.Errorf("%w: the link to NATS is down (%s)", ErrUnreachable, st)
				n.inbox.failAll(err, false)
				n.cancelServed()
			}
		}
	}
}

// linkErr returns why no request can go out now, or nil.
func (n *Node) linkErr() error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	if st := n.nc.Status(); st != natsgo.CONNECTED {
		return fmt.Errorf("%w: the link to NATS is down (%s)", ErrUnreachable, st)
	}
	return nil
}

// codec returns the codec of the given name, or nil.
func (n *Node) codec(name string) codec.Codec { return n.s.codecs[name] }

// publish sends a message, logging a failure: what it sends is at most
// once anyway, and whoever waits for an answer has a deadline.
func (n *Node) publish(subject, reply string, data []byte) error {
	err := n.nc.PublishMsg(&natsgo.Msg{Subject: subject, Reply: reply, Data: data})
	if err != nil {
		n.log.Debug("parley nats: publish failed", "subject", subject, "err", err)
	}
	return err
}
