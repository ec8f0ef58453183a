package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyrpc/parley/codec"
)

// ErrUnknownPeer is returned for a peer id that is not in a [PeerSet].
var ErrUnknownPeer = errors.New("rpc: no peer with that id")

// PeerSet is the set of connected peers of a server, each with an id. It
// lets the server call or notify one client by id, or all of them at once,
// and tells it when peers join and leave. A peer leaves the set by itself
// when it ends. The zero value is ready to use; set the hooks before the
// first Add.
//
// The hooks run on the goroutine that causes them, without the set's lock:
// OnJoin on Add's caller; OnLeave on whichever goroutine ends the peer, or
// on Add's caller when Add takes over the id of a peer that has ended but
// not left yet. So do not hold, around Add, a lock that a hook takes. A
// peer's leaving is noticed asynchronously: OnLeave may run after the
// server that made the peer has been closed.
type PeerSet struct {
	// OnJoin, if not nil, is called after a peer is added.
	OnJoin func(id string, p *Peer)
	// OnLeave, if not nil, is called after a peer has ended and left the
	// set, with the reason it ended (see [Peer.Err]).
	OnLeave func(id string, p *Peer, err error)

	mu    sync.RWMutex
	byID  map[string]*Peer
	ids   map[*Peer]string
	count atomic.Uint64

	watchers watchers // see Watch
}

// Add puts p in the set under id, or under a fresh id ("peer-1", ...) when
// id is empty, and returns the id. It fails if the id is taken or p is in
// the set already. A peer that has ended is not added.
func (s *PeerSet) Add(id string, p *Peer) (string, error) {
	if p == nil {
		return "", errors.New("rpc: PeerSet.Add: nil peer")
	}
	s.mu.Lock()
	if s.byID == nil {
		s.byID = make(map[string]*Peer)
		s.ids = make(map[*Peer]string)
	}
	if id == "" {
		for {
			id = "peer-" + strconv.FormatUint(s.count.Add(1), 10)
			if _, taken := s.byID[id]; !taken {
				break
			}
		}
	}
	var replaced *Peer
	if old, taken := s.byID[id]; taken {
		select {
		case <-old.quit:
			// The holder has ended but not left yet (leaving runs just
			// after the end): the id is free, take it over.
			replaced = old
			delete(s.ids, old)
		default:
			s.mu.Unlock()
			return "", fmt.Errorf("rpc: PeerSet.Add: id %q is taken", id)
		}
	}
	if old, in := s.ids[p]; in {
		s.mu.Unlock()
		return "", fmt.Errorf("rpc: PeerSet.Add: peer is in the set already as %q", old)
	}
	s.byID[id] = p
	s.ids[p] = id
	s.mu.Unlock()
	if replaced != nil && s.OnLeave != nil {
		s.OnLeave(id, replaced, replaced.endErr())
	}
	if replaced != nil {
		s.watchers.call(id, replaced, false)
	}
	if s.OnJoin != nil {
		s.OnJoin(id, p)
	}
	s.watchers.call(id, p, true)
	// The peer's context ends with the peer; AfterFunc waits for that
	// without a goroutine of its own.
	context.AfterFunc(p.ctx, func() { s.remove(id, p) })
	return id, nil
}

func (s *PeerSet) remove(id string, p *Peer) {
	s.mu.Lock()
	if s.byID[id] != p {
		s.mu.Unlock()
		return
	}
	delete(s.byID, id)
	delete(s.ids, p)
	s.mu.Unlock()
	if s.OnLeave != nil {
		s.OnLeave(id, p, p.endErr())
	}
	s.watchers.call(id, p, false)
}

// Get returns the peer with the given id.
func (s *PeerSet) Get(id string) (*Peer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byID[id]
	return p, ok
}

// ID returns the id of p in the set. A handler finds its caller's id with
// set.ID(rpc.PeerFromContext(ctx)).
func (s *PeerSet) ID(p *Peer) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.ids[p]
	return id, ok
}

// Len returns the number of peers in the set.
func (s *PeerSet) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID)
}

// IDs returns the ids of the peers in the set now, in no particular order.
func (s *PeerSet) IDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	return ids
}

// snapshot copies the set so that calls run without the lock.
func (s *PeerSet) snapshot() map[string]*Peer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := make(map[string]*Peer, len(s.byID))
	for id, p := range s.byID {
		m[id] = p
	}
	return m
}

// Call calls method on the peer with the given id.
func (s *PeerSet) Call(ctx context.Context, id, method string, params, result any) error {
	p, ok := s.Get(id)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPeer, id)
	}
	return p.Call(ctx, method, params, result)
}

// Notify sends a notification to the peer with the given id.
func (s *PeerSet) Notify(ctx context.Context, id, method string, params any) error {
	p, ok := s.Get(id)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownPeer, id)
	}
	return p.Notify(ctx, method, params)
}

// Reply is one peer's outcome of [CallAll] or [PeerSet.NotifyAll].
type Reply[R any] struct {
	ID     string
	Peer   *Peer
	Result R
	Err    error
}

// CallAll calls method on every peer in s at once and gathers every
// answer. Each call is bounded by timeout from when CallAll begins (zero:
// only ctx bounds it), so one slow client fails alone while the rest
// answer. The replies come in no
// particular order, one per peer that was in the set when CallAll began.
// params are encoded once per codec in use, not once per peer.
func CallAll[R any](ctx context.Context, s *PeerSet, method string, params any, timeout time.Duration) []Reply[R] {
	return fanOut(ctx, s, params, timeout, func(ctx context.Context, p *Peer, params any, r *Reply[R]) error {
		return p.Call(ctx, method, params, &r.Result)
	})
}

// NotifyAll sends a notification to every peer in s at once, each send
// bounded by its own timeout (zero: only ctx bounds it), so that a client
// that stopped reading cannot hold up the rest. It returns one reply per
// peer (Result unused), so that failures can be told apart.
func (s *PeerSet) NotifyAll(ctx context.Context, method string, params any, timeout time.Duration) []Reply[struct{}] {
	return fanOut(ctx, s, params, timeout, func(ctx context.Context, p *Peer, params any, _ *Reply[struct{}]) error {
		return p.Notify(ctx, method, params)
	})
}

// fanOut runs do for every peer in s concurrently and gathers the replies.
func fanOut[R any](ctx context.Context, s *PeerSet, params any, timeout time.Duration,
	do func(ctx context.Context, p *Peer, params any, r *Reply[R]) error) []Reply[R] {
	peers := s.snapshot()
	replies := make([]Reply[R], len(peers))
	// Every call starts now, so one deadline serves them all: one timer,
	// not one per peer.
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var (
		wg  sync.WaitGroup
		enc paramCache
		i   int
	)
	for id, p := range peers {
		r := &replies[i]
		i++
		r.ID, r.Peer = id, p
		raw, err := enc.get(p, params) // here, not in each goroutine: no contention
		if err != nil {
			r.Err = err
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Err = do(ctx, p, raw, r)
		}()
	}
	wg.Wait()
	return replies
}

// paramCache encodes a params value once per codec. It is used by one
// goroutine.
type paramCache struct {
	raw map[codec.Codec]Raw
}

func (c *paramCache) get(p *Peer, params any) (any, error) {
	if params == nil {
		return nil, nil
	}
	if err := checkParams(params); err != nil {
		return nil, err
	}
	if !reflect.TypeOf(p.codec).Comparable() {
		return params, nil // cannot key a map by it: let each call encode
	}
	if r, ok := c.raw[p.codec]; ok {
		return r, nil
	}
	b, err := p.codec.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("rpc: encoding params: %w", err)
	}
	if c.raw == nil {
		c.raw = make(map[codec.Codec]Raw)
	}
	r := Raw{data: b, codec: p.codec}
	c.raw[p.codec] = r
	return r, nil
}
