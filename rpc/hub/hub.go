package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// Defaults for the bounds in [Options].
const (
	DefaultMaxTopicsPerPeer           = 1000
	DefaultMaxSubscribersPerTopic     = 100_000
	DefaultMaxRegistrationsPerPeer    = 100
	DefaultMaxRegistrantsPerProcedure = 1000
	DefaultMaxPendingCalls            = 10_000
	DefaultMaxQueuedEvents            = 1024
	DefaultMaxNameLength              = 256
)

// Options configure a [Hub]. The zero value is usable: every action
// allowed, default bounds, no cluster.
type Options struct {
	// Authorize, if set, decides every subscribe, publish, register and
	// call a client asks for through the hub's methods, by peer and name
	// (the topic pattern, topic or procedure). It reads the identity the
	// connection got at its handshake with p.Value(key) (an adapter's
	// Accept returns rpc.WithValue(key, identity)). nil allows the action;
	// an error refuses it: the client gets an [*rpc.Error] as it is, any
	// other error as [CodeNotAuthorized] with the error's text. It is not
	// called for what Go code on the server does through the Hub's methods:
	// that code decides for itself.
	Authorize func(ctx context.Context, p *rpc.Peer, a Action, name string) error

	// MaxTopicsPerPeer bounds the patterns one peer is subscribed to
	// (default [DefaultMaxTopicsPerPeer]).
	MaxTopicsPerPeer int
	// MaxSubscribersPerTopic bounds the peers subscribed to one pattern
	// (default [DefaultMaxSubscribersPerTopic]).
	MaxSubscribersPerTopic int
	// MaxRegistrationsPerPeer bounds the procedures one peer registers
	// (default [DefaultMaxRegistrationsPerPeer]).
	MaxRegistrationsPerPeer int
	// MaxRegistrantsPerProcedure bounds the peers registered for one
	// shared procedure (default [DefaultMaxRegistrantsPerProcedure]).
	MaxRegistrantsPerProcedure int
	// MaxPendingCalls bounds the routed calls in flight through the hub
	// at once, from clients and Go code together (default
	// [DefaultMaxPendingCalls]); beyond it a call is refused with
	// [CodeLimit]. (Each client's own calls are also bounded by its peer's
	// rpc.WithMaxConcurrency.)
	MaxPendingCalls int
	// MaxQueuedEvents bounds the events waiting to be written to one
	// subscriber (default [DefaultMaxQueuedEvents]). A subscriber whose
	// queue is full misses the events that do not fit (they are counted in
	// [Stats]); publishers never wait for it. A client that stopped reading
	// is dropped by its adapter's slow-consumer policy (the WebSocket
	// adapter's write timeout), and then leaves every topic.
	MaxQueuedEvents int
	// CloseSlowSubscribers closes, instead, the peer of a subscriber whose
	// queue is full: for applications where a missed event is worse than
	// a reconnect.
	CloseSlowSubscribers bool
	// MaxNameLength bounds topic patterns and procedure names, in bytes
	// (default [DefaultMaxNameLength]).
	MaxNameLength int

	// CallTimeout bounds routed calls that give no timeout of their own
	// (zero: none but the caller's context). A call that gives one gets
	// the shorter of the two.
	CallTimeout time.Duration

	// Cluster, if set, extends the hub to other nodes: see [Cluster].
	Cluster Cluster
}

// Action is what a client asks the hub to do, for [Options.Authorize].
type Action uint8

// The actions.
const (
	Subscribe Action = iota + 1
	Publish
	Register
	Call
)

// String returns the action's name, as hub methods and errors spell it.
func (a Action) String() string {
	switch a {
	case Subscribe:
		return "subscribe"
	case Publish:
		return "publish"
	case Register:
		return "register"
	case Call:
		return "call"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Hub routes between the peers of one server: topics (publish/subscribe)
// and routed calls. Create one with [New], mount its methods with
// [Hub.Mount]. It is safe for concurrent use.
type Hub struct {
	opts Options

	ctx    context.Context // ends with Close: event writers stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // event writers

	// writersMu orders starting an event writer (wg.Add) before Close's
	// wg.Wait: a member that left the hub's map just before Close can
	// still be sent a publish that was under way.
	writersMu   sync.Mutex
	writersDone bool // Close has begun waiting; no writer starts

	// mu guards members, the topic tree and the procedures. It is never
	// held across I/O; Cluster hooks run under it (see Cluster).
	mu      sync.RWMutex
	members map[*rpc.Peer]*member
	topics  node
	procs   map[string]*procedure
	closed  bool

	pending atomic.Int64

	published, delivered, dropped atomic.Uint64
	calls, callErrors             atomic.Uint64
}

// New returns a hub configured by opts (nil for the defaults). opts is
// copied.
func New(opts *Options) (*Hub, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	for _, f := range []struct {
		v    *int
		def  int
		name string
	}{
		{&o.MaxTopicsPerPeer, DefaultMaxTopicsPerPeer, "MaxTopicsPerPeer"},
		{&o.MaxSubscribersPerTopic, DefaultMaxSubscribersPerTopic, "MaxSubscribersPerTopic"},
		{&o.MaxRegistrationsPerPeer, DefaultMaxRegistrationsPerPeer, "MaxRegistrationsPerPeer"},
		{&o.MaxRegistrantsPerProcedure, DefaultMaxRegistrantsPerProcedure, "MaxRegistrantsPerProcedure"},
		{&o.MaxPendingCalls, DefaultMaxPendingCalls, "MaxPendingCalls"},
		{&o.MaxQueuedEvents, DefaultMaxQueuedEvents, "MaxQueuedEvents"},
		{&o.MaxNameLength, DefaultMaxNameLength, "MaxNameLength"},
	} {
		switch {
		case *f.v == 0:
			*f.v = f.def
		case *f.v < 0:
			return nil, fmt.Errorf("hub: Options.%s is negative (%d)", f.name, *f.v)
		}
	}
	if o.CallTimeout < 0 {
		return nil, fmt.Errorf("hub: Options.CallTimeout is negative (%v)", o.CallTimeout)
	}
	h := &Hub{opts: o, members: map[*rpc.Peer]*member{}, procs: map[string]*procedure{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h, nil
}

// Close forgets every subscription and registration, stops writing
// events, and waits for the event writers to end. Routed calls in flight
// go on to their end. Close does not close any peer. It is idempotent.
func (h *Hub) Close() error {
	h.mu.Lock()
	h.closed = true
	members := h.members
	h.members = map[*rpc.Peer]*member{}
	h.mu.Unlock()
	h.cancel()
	for _, m := range members {
		m.stop()
		h.forget(m)
	}
	h.writersMu.Lock()
	h.writersDone = true
	h.writersMu.Unlock()
	h.wg.Wait()
	return nil
}

// ErrClosed is returned by a hub's methods after [Hub.Close].
var ErrClosed = errors.New("hub: closed")

// member is the hub's state for one peer that used it.
type member struct {
	peer   *rpc.Peer
	codec  codec.Codec         // peer's, kept here: a publish to many reads it without touching each peer
	stop   func() bool         // takes back the AfterFunc on the peer's end
	topics map[string]struct{} // patterns it subscribed to (h.mu)
	procs  map[string]struct{} // procedures it registered (h.mu)
	gone   bool                // it left (h.mu)

	q eventQueue
}

// memberOf returns p's member, making it if need be; h.mu is held for
// writing. It fails once p has ended or the hub is closed.
func (h *Hub) memberOf(p *rpc.Peer) (*member, error) {
	if h.closed {
		return nil, ErrClosed
	}
	if m := h.members[p]; m != nil {
		return m, nil
	}
	if p.Context().Err() != nil {
		return nil, errPeerGone
	}
	m := &member{peer: p, codec: p.Codec(), topics: map[string]struct{}{}, procs: map[string]struct{}{}}
	m.q.init(h, m)
	h.members[p] = m
	m.stop = context.AfterFunc(p.Context(), func() { h.leave(m) })
	return m, nil
}

var errPeerGone = errors.New("hub: the peer has ended")

// leave removes a peer that ended from every topic and procedure.
func (h *Hub) leave(m *member) {
	h.mu.Lock()
	if h.members[m.peer] == m {
		delete(h.members, m.peer)
	}
	h.mu.Unlock()
	h.forget(m)
}

// forget drops m's subscriptions, registrations and queued events.
func (h *Hub) forget(m *member) {
	h.mu.Lock()
	if m.gone {
		h.mu.Unlock()
		return
	}
	m.gone = true
	for pattern := range m.topics {
		h.unsubscribeLocked(m, pattern)
	}
	for name := range m.procs {
		h.unregisterLocked(m, name)
	}
	h.mu.Unlock()
	m.q.discard()
}

// Stats are counters of a hub's activity since New.
type Stats struct {
	// Published counts publishes; Delivered, events queued for a
	// subscriber; Dropped, events a full subscriber queue refused.
	Published, Delivered, Dropped uint64
	// Calls counts routed calls; CallErrors, those that ended in an error.
	Calls, CallErrors uint64
	// Pending is the number of routed calls in flight now.
	Pending int64
	// Queued is the number of events waiting to be written now, over
	// all subscribers.
	Queued int
	// Peers is the number of peers with a subscription or registration.
	Peers int
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	n, queued := len(h.members), 0
	for _, m := range h.members {
		queued += m.q.len()
	}
	h.mu.RUnlock()
	return Stats{
		Published: h.published.Load(), Delivered: h.delivered.Load(), Dropped: h.dropped.Load(),
		Calls: h.calls.Load(), CallErrors: h.callErrors.Load(), Pending: h.pending.Load(), Peers: n,
		Queued: queued,
	}
}
