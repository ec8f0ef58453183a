package nats

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/rpc"
)

// presenceState is what a node knows of who is connected where: its own
// clients, as it announced them, and its view of every other node's. One
// goroutine (loop) changes it; lookups read it under mu.
type presenceState struct {
	n        *Node
	in       chan *natsgo.Msg // P.presence
	syncDone chan syncResult
	probed   chan probeResult
	kick     chan struct{} // 1-buffered: send a heartbeat now (reconnected)

	dirtyMu  sync.Mutex
	dirty    map[string]struct{}
	dirtySig chan struct{} // 1-buffered

	mu     sync.RWMutex
	own    map[string]*ownEntry
	seq    uint64 // of the last delta this node sent
	digest uint64 // XOR of idHash over own
	nodes  map[string]*remoteNode
	gen    uint64 // numbers remoteNode generations

	lastSweep time.Time // loop's
}

// ownEntry is a client of this node, as announced.
type ownEntry struct {
	joinEntry
	peer *rpc.Peer
	sub  *natsgo.Subscription
}

// remoteNode is the view of another node.
type remoteNode struct {
	gen      uint64
	ids      map[string]joinEntry
	seq      uint64
	digest   uint64
	every    time.Duration
	seen     atomic.Int64 // Unix nanoseconds: its last message, or answer (see alive)
	synced   bool         // its whole list has arrived once
	syncing  bool         // a sync is under way
	probing  bool         // it went silent: a ping is under way
	buffered []presence   // deltas that came during the sync
}

type syncResult struct {
	node string
	gen  uint64
	seq  uint64
	ids  []joinEntry
	err  error
}

// maxEntries bounds the entries of one delta or snapshot chunk (about
// 60 KB of JSON with short ids).
const maxEntries = 1000

// maxBuffered bounds the deltas kept while a sync is under way; past it
// they are dropped and the sync starts again.
const maxBuffered = 1000

func (ps *presenceState) init(n *Node) {
	ps.n = n
	ps.in = make(chan *natsgo.Msg, 4096)
	ps.syncDone = make(chan syncResult, 16)
	ps.probed = make(chan probeResult, 16)
	ps.kick = make(chan struct{}, 1)
	ps.dirty = make(map[string]struct{})
	ps.dirtySig = make(chan struct{}, 1)
	ps.own = make(map[string]*ownEntry)
	ps.nodes = make(map[string]*remoteNode)
}

// markDirty notes that id joined or left; the loop looks at the set to
// find out which. It never blocks (it runs in PeerSet's hooks).
func (ps *presenceState) markDirty(id string) {
	ps.dirtyMu.Lock()
	ps.dirty[id] = struct{}{}
	ps.dirtyMu.Unlock()
	select {
	case ps.dirtySig <- struct{}{}:
	default:
	}
}

func (ps *presenceState) reconnected() {
	select {
	case ps.kick <- struct{}{}:
	default:
	}
}

func (ps *presenceState) loop() {
	n := ps.n
	defer n.wg.Done()
	defer ps.leaveAll()
	tick := time.NewTicker(n.s.Heartbeat)
	defer tick.Stop()
	ps.heartbeat()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-ps.dirtySig:
			ps.announce()
		case m := <-ps.in:
			ps.receive(m)
		case r := <-ps.syncDone:
			ps.applySync(r)
		case r := <-ps.probed:
			ps.applyProbe(r)
		case <-ps.kick:
			ps.heartbeat()
		case <-tick.C:
			ps.heartbeat()
			ps.sweep()
		}
	}
}

// event is a join or leave to report to the user's hooks.
type event struct {
	node, id string
	join     bool
}

func (ps *presenceState) fire(events []event) {
	for _, e := range events {
		if e.join && ps.n.s.OnJoin != nil {
			ps.n.s.OnJoin(e.node, e.id)
		} else if !e.join && ps.n.s.OnLeave != nil {
			ps.n.s.OnLeave(e.node, e.id)
		}
	}
}

// announce brings the node's subscriptions and announcements in line with
// its PeerSet for the ids that changed.
func (ps *presenceState) announce() {
	n := ps.n
	ps.dirtyMu.Lock()
	ids := ps.dirty
	ps.dirty = make(map[string]struct{})
	ps.dirtyMu.Unlock()

	var (
		joins     []*ownEntry
		leaves    []string
		subscribe bool
		now       = time.Now().UnixNano()
	)
	for id := range ids {
		p, ok := n.peers.Get(id)
		cur := ps.own[id] // only this goroutine writes own
		switch {
		case ok && cur != nil && cur.peer == p:
		case ok:
			e := &ownEntry{joinEntry: joinEntry{ID: id, At: now, Codec: p.Codec().Name()}, peer: p}
			if cur != nil {
				e.sub = cur.sub
			} else {
				sub, err := n.nc.ChanQueueSubscribe(n.subj.peerSubject(id), queueGroup, n.peerMsgs)
				if err != nil {
					n.log.Warn("parley nats: cannot subscribe for a client", "id", id, "err", err)
					continue
				}
				e.sub = sub
				subscribe = true
			}
			joins = append(joins, e)
		case cur != nil:
			cur.sub.Unsubscribe()
			leaves = append(leaves, id)
		}
	}
	if subscribe && n.nc.IsConnected() {
		// Once others hear of a join, calls to it must find the
		// subscription: the server has it after the flush.
		n.nc.FlushTimeout(2 * time.Second)
	}
	var events []event
	for len(joins) > 0 || len(leaves) > 0 {
		msg := presence{Op: opDelta, Node: n.name}
		ps.mu.Lock()
		for len(joins) > 0 && len(msg.Join)+len(msg.Leave) < maxEntries {
			e := joins[0]
			joins = joins[1:]
			if ps.own[e.ID] == nil {
				ps.digest ^= idHash(e.ID)
				events = append(events, event{n.name, e.ID, true})
			}
			ps.own[e.ID] = e
			msg.Join = append(msg.Join, e.joinEntry)
		}
		for len(leaves) > 0 && len(msg.Join)+len(msg.Leave) < maxEntries {
			id := leaves[0]
			leaves = leaves[1:]
			delete(ps.own, id)
			ps.digest ^= idHash(id)
			events = append(events, event{n.name, id, false})
			msg.Leave = append(msg.Leave, id)
		}
		ps.seq++
		msg.Seq = ps.seq
		b, _ := json.Marshal(msg)
		// Published under the lock, so that a snapshot at seq S holds
		// exactly the deltas up to S.
		n.publish(n.subj.presence, "", b)
		ps.mu.Unlock()
	}
	ps.fire(events)
}

// leaveAll drops the node's subscriptions as it closes.
func (ps *presenceState) leaveAll() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, e := range ps.own {
		e.sub.Unsubscribe()
	}
	ps.own = map[string]*ownEntry{}
}

func (ps *presenceState) heartbeat() {
	ps.mu.RLock()
	msg := presence{Op: opHeartbeat, Node: ps.n.name, Seq: ps.seq, N: len(ps.own), Digest: ps.digest,
		Every: ps.n.s.Heartbeat.Milliseconds()}
	ps.mu.RUnlock()
	b, _ := json.Marshal(msg)
	ps.n.publish(ps.n.subj.presence, "", b)
}

func (ps *presenceState) sayBye() {
	b, _ := json.Marshal(presence{Op: opBye, Node: ps.n.name})
	if ps.n.nc.IsConnected() {
		ps.n.publish(ps.n.subj.presence, "", b)
	}
}

// receive handles a message on P.presence.
func (ps *presenceState) receive(m *natsgo.Msg) {
	msg, err := decodePresence(m.Data)
	if err != nil {
		ps.n.log.Debug("parley nats: bad presence message", "err", err)
		return
	}
	if msg.Node == ps.n.name {
		return // our own
	}
	if msg.Op == opBye {
		ps.drop(msg.Node, "it left")
		return
	}
	if msg.Op != opDelta && msg.Op != opHeartbeat {
		return
	}
	ps.mu.Lock()
	rn := ps.nodes[msg.Node]
	if rn == nil {
		ps.gen++
		rn = &remoteNode{gen: ps.gen, ids: make(map[string]joinEntry), every: ps.n.s.Heartbeat}
		ps.nodes[msg.Node] = rn
	}
	rn.seen.Store(time.Now().UnixNano())
	if msg.Op == opHeartbeat {
		if msg.Every > 0 {
			rn.every = time.Duration(msg.Every) * time.Millisecond
		}
		if !rn.syncing && (!rn.synced || msg.Seq != rn.seq || msg.N != len(rn.ids) || msg.Digest != rn.digest) {
			ps.startSync(msg.Node, rn)
		}
		ps.mu.Unlock()
		return
	}
	switch {
	case rn.syncing:
		ps.buffer(msg.Node, rn, msg)
		ps.mu.Unlock()
		return
	case rn.synced && msg.Seq <= rn.seq:
		ps.mu.Unlock()
		return // seen already
	case !rn.synced || msg.Seq != rn.seq+1:
		ps.startSync(msg.Node, rn)
		ps.buffer(msg.Node, rn, msg)
		ps.mu.Unlock()
		return
	}
	events, superseded := ps.applyDelta(msg.Node, rn, msg)
	ps.mu.Unlock()
	ps.settle(events, superseded)
}

func (ps *presenceState) buffer(node string, rn *remoteNode, msg presence) {
	if len(rn.buffered) >= maxBuffered {
		rn.buffered = nil
		rn.syncing = false
		ps.startSync(node, rn)
	}
	rn.buffered = append(rn.buffered, msg)
}

// applyDelta applies a delta to rn's view, with ps.mu held. It returns
// the events to fire and this node's peers that a newer holder of the same
// id has superseded.
func (ps *presenceState) applyDelta(node string, rn *remoteNode, msg presence) ([]event, []*rpc.Peer) {
	var (
		events     []event
		superseded []*rpc.Peer
	)
	for _, e := range msg.Join {
		if _, had := rn.ids[e.ID]; !had {
			rn.digest ^= idHash(e.ID)
			events = append(events, event{node, e.ID, true})
		}
		rn.ids[e.ID] = e
		if p := ps.supersededBy(node, e); p != nil {
			superseded = append(superseded, p)
		}
	}
	for _, id := range msg.Leave {
		if _, had := rn.ids[id]; had {
			delete(rn.ids, id)
			rn.digest ^= idHash(id)
			events = append(events, event{node, id, false})
		}
	}
	rn.seq = msg.Seq
	return events, superseded
}

// supersededBy returns this node's peer for e.ID when node's holding of it
// is newer than ours: the same id on two nodes means a client moved (it
// reconnected elsewhere before this node noticed its old connection end),
// and the newer connection wins. Ties go to the greater node name, so both
// nodes agree.
func (ps *presenceState) supersededBy(node string, e joinEntry) *rpc.Peer {
	mine := ps.own[e.ID]
	if mine == nil {
		return nil
	}
	if e.At > mine.At || (e.At == mine.At && node > ps.n.name) {
		return mine.peer
	}
	return nil
}

// settle fires events and closes superseded peers, without the lock.
func (ps *presenceState) settle(events []event, superseded []*rpc.Peer) {
	ps.fire(events)
	for _, p := range superseded {
		ps.n.log.Info("parley nats: a client with this id connected to another node since: closing this connection")
		p.Close()
	}
}

// startSync asks node for its whole list, with ps.mu held.
func (ps *presenceState) startSync(node string, rn *remoteNode) {
	rn.syncing = true
	gen := rn.gen
	if !ps.n.spawn(func() { ps.fetch(node, gen) }) {
		rn.syncing = false
	}
}

// syncWait bounds a sync request.
func (ps *presenceState) syncWait() time.Duration {
	return max(2*time.Second, missedHeartbeats*ps.n.s.Heartbeat)
}

// fetch requests a node's snapshot and hands it to the loop.
func (ps *presenceState) fetch(node string, gen uint64) {
	n := ps.n
	r := syncResult{node: node, gen: gen}
	r.seq, r.ids, r.err = ps.request(node)
	select {
	case ps.syncDone <- r:
	case <-n.ctx.Done():
	}
}

func (ps *presenceState) request(node string) (uint64, []joinEntry, error) {
	n := ps.n
	if err := n.linkErr(); err != nil {
		return 0, nil, err
	}
	key, reply, pend, err := n.inbox.add(node)
	if err != nil {
		return 0, nil, err
	}
	defer n.inbox.remove(key)
	if err := n.publish(n.subj.sync(node), reply, nil); err != nil {
		return 0, nil, err
	}
	timer := time.NewTimer(ps.syncWait())
	defer timer.Stop()
	var (
		ids []joinEntry
		seq uint64
	)
	for {
		select {
		case <-timer.C:
			return 0, nil, fmt.Errorf("sync with node %s timed out", node)
		case <-n.ctx.Done():
			return 0, nil, ErrClosed
		case <-pend.wake:
		}
		msgs, gone, err := pend.take()
		for _, m := range msgs {
			if isNoResponders(m) {
				return 0, nil, fmt.Errorf("node %s is gone", node)
			}
			snap, err := decodePresence(m.Data)
			if err != nil || snap.Op != opSnap || snap.Node != node {
				return 0, nil, fmt.Errorf("bad snapshot from node %s: %v", node, err)
			}
			if seq != 0 && snap.Seq != seq {
				return 0, nil, fmt.Errorf("snapshot from node %s changed under way", node)
			}
			seq = snap.Seq
			ids = append(ids, snap.Join...)
			if !snap.More {
				return seq, ids, nil
			}
		}
		if err != nil {
			return 0, nil, err
		}
		if len(gone) > 0 {
			return 0, nil, fmt.Errorf("node %s left", node)
		}
	}
}

// onSync answers another node's request for this node's whole list.
func (ps *presenceState) onSync(m *natsgo.Msg) {
	if m.Reply == "" {
		return
	}
	ps.mu.RLock()
	seq := ps.seq
	all := make([]joinEntry, 0, len(ps.own))
	for _, e := range ps.own {
		all = append(all, e.joinEntry)
	}
	ps.mu.RUnlock()
	for {
		msg := presence{Op: opSnap, Node: ps.n.name, Seq: seq}
		k := min(len(all), maxEntries)
		msg.Join, all = all[:k], all[k:]
		msg.More = len(all) > 0
		b, _ := json.Marshal(msg)
		ps.n.publish(m.Reply, "", b)
		if !msg.More {
			return
		}
	}
}

// applySync replaces a node's view with its snapshot, then applies the
// deltas that came meanwhile.
func (ps *presenceState) applySync(r syncResult) {
	ps.mu.Lock()
	rn := ps.nodes[r.node]
	if rn == nil || rn.gen != r.gen {
		ps.mu.Unlock()
		return // dropped since
	}
	rn.syncing = false
	buffered := rn.buffered
	rn.buffered = nil
	if r.err != nil {
		ps.mu.Unlock()
		ps.n.log.Debug("parley nats: sync failed; the next heartbeat retries", "with", r.node, "err", r.err)
		return
	}
	var (
		events     []event
		superseded []*rpc.Peer
		next       = make(map[string]joinEntry, len(r.ids))
		digest     uint64
	)
	for _, e := range r.ids {
		if _, dup := next[e.ID]; dup {
			continue
		}
		next[e.ID] = e
		digest ^= idHash(e.ID)
		if _, had := rn.ids[e.ID]; !had {
			events = append(events, event{r.node, e.ID, true})
		}
		if p := ps.supersededBy(r.node, e); p != nil {
			superseded = append(superseded, p)
		}
	}
	for id := range rn.ids {
		if _, still := next[id]; !still {
			events = append(events, event{r.node, id, false})
		}
	}
	rn.ids, rn.digest, rn.seq, rn.synced = next, digest, r.seq, true
	for _, msg := range buffered {
		if msg.Seq <= rn.seq {
			continue
		}
		if msg.Seq != rn.seq+1 {
			ps.startSync(r.node, rn)
			break
		}
		ev, sup := ps.applyDelta(r.node, rn, msg)
		events = append(events, ev...)
		superseded = append(superseded, sup...)
	}
	ps.mu.Unlock()
	ps.settle(events, superseded)
}

// sweep pings the nodes not heard from for missedHeartbeats of their
// heartbeats; those that do not answer are dropped (see probe). When this
// node's own loop ran late (a stalled process), it counts nobody's silence
// from before: the fault may be its own.
func (ps *presenceState) sweep() {
	now := time.Now()
	late := !ps.lastSweep.IsZero() && now.Sub(ps.lastSweep) > 2*ps.n.s.Heartbeat
	ps.lastSweep = now
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for name, rn := range ps.nodes {
		if late {
			rn.seen.Store(now.UnixNano())
			continue
		}
		if !rn.probing && now.Sub(time.Unix(0, rn.seen.Load())) > missedHeartbeats*rn.every {
			rn.probing = true
			gen, wait := rn.gen, max(missedHeartbeats*rn.every, minProbeWait)
			if !ps.n.spawn(func() { ps.probe(name, gen, wait) }) {
				rn.probing = false
			}
		}
	}
}

// minProbeWait is the least time a silent node has to answer a ping.
const minProbeWait = 5 * time.Second

type probeResult struct {
	node  string
	gen   uint64
	alive bool
	why   string
}

// probe pings a silent node. Its heartbeats may only be late (a node busy
// with a large CallAll, a stalled process): it is dropped only when NATS
// says nobody subscribes for it any more (its connection is gone: at once)
// or when it does not answer within wait (cut off, or hung).
func (ps *presenceState) probe(node string, gen uint64, wait time.Duration) {
	n := ps.n
	r := probeResult{node: node, gen: gen, why: "it went silent and did not answer a ping"}
	if err := n.linkErr(); err != nil {
		r.alive = true // we cannot tell: try again later
	} else if key, reply, pend, err := n.inbox.add(); err == nil {
		n.publish(n.subj.ping(node), reply, nil)
		timer := time.NewTimer(wait)
	wait:
		for {
			select {
			case <-timer.C:
				break wait
			case <-n.ctx.Done():
				break wait
			case <-pend.wake:
			}
			msgs, _, err := pend.take()
			if err != nil {
				r.alive = true // our link dropped: we cannot tell
				break
			}
			for _, m := range msgs {
				if isNoResponders(m) {
					r.why = "its connection to NATS is gone"
				} else {
					r.alive = true
				}
				break wait
			}
		}
		timer.Stop()
		n.inbox.remove(key)
	}
	select {
	case ps.probed <- r:
	case <-n.ctx.Done():
	}
}

func (ps *presenceState) applyProbe(r probeResult) {
	ps.mu.Lock()
	rn := ps.nodes[r.node]
	if rn == nil || rn.gen != r.gen {
		ps.mu.Unlock()
		return
	}
	rn.probing = false
	if r.alive {
		rn.seen.Store(time.Now().UnixNano())
	}
	ps.mu.Unlock()
	if !r.alive {
		ps.drop(r.node, r.why)
	}
}

// onPing answers another node's ping.
func (ps *presenceState) onPing(m *natsgo.Msg) {
	if m.Reply != "" {
		ps.n.publish(m.Reply, "", []byte{})
	}
}

// alive notes that node answered: a node busy answering is not dead, even
// when its heartbeats are late.
func (ps *presenceState) alive(node string) {
	ps.mu.RLock()
	if rn := ps.nodes[node]; rn != nil {
		rn.seen.Store(time.Now().UnixNano())
	}
	ps.mu.RUnlock()
}

// drop removes a node from the view: its clients leave, and calls waiting
// on it end.
func (ps *presenceState) drop(node, why string) {
	ps.mu.Lock()
	rn := ps.nodes[node]
	delete(ps.nodes, node)
	ps.mu.Unlock()
	if rn == nil {
		return
	}
	ps.n.log.Debug("parley nats: node dropped from the view", "dropped", node, "why", why)
	events := make([]event, 0, len(rn.ids))
	for id := range rn.ids {
		events = append(events, event{node, id, false})
	}
	ps.n.inbox.nodeGone(node)
	ps.fire(events)
}

// holder returns the node holding id, newest first, and its codec; empty
// when the view knows of none.
func (ps *presenceState) holder(id string) (node, codecName string) {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var at int64
	for name, rn := range ps.nodes {
		if e, ok := rn.ids[id]; ok && (node == "" || e.At > at) {
			node, codecName, at = name, e.Codec, e.At
		}
	}
	return node, codecName
}

// snapshot returns every other node in the view with its ids.
func (ps *presenceState) snapshot() map[string][]string {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	m := make(map[string][]string, len(ps.nodes))
	for name, rn := range ps.nodes {
		if !rn.synced {
			continue
		}
		ids := make([]string, 0, len(rn.ids))
		for id := range rn.ids {
			ids = append(ids, id)
		}
		m[name] = ids
	}
	return m
}

// Nodes returns the names of the nodes in this node's view of the
// cluster, itself included, sorted.
func (n *Node) Nodes() []string {
	ps := &n.pres
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	names := []string{n.name}
	for name, rn := range ps.nodes {
		if rn.synced {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// IDs returns the ids of the clients connected to any node of the
// cluster, as this node's view has them, sorted, each once.
func (n *Node) IDs() []string {
	ps := &n.pres
	ps.mu.RLock()
	ids := make([]string, 0, len(ps.own))
	for id := range ps.own {
		ids = append(ids, id)
	}
	for _, rn := range ps.nodes {
		for id := range rn.ids {
			ids = append(ids, id)
		}
	}
	ps.mu.RUnlock()
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Where returns the names of the nodes that hold a client with the given
// id, as this node's view has them: none, one, or for a moment two (a
// client that moved; see the package documentation).
func (n *Node) Where(id string) []string {
	ps := &n.pres
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	var names []string
	if _, ok := ps.own[id]; ok {
		names = append(names, n.name)
	}
	for name, rn := range ps.nodes {
		if _, ok := rn.ids[id]; ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
