package rpc

import "sync"

// Watch calls fn after every join and every leave of s, as [PeerSet.OnJoin]
// and [PeerSet.OnLeave] are called (on the same goroutines, after them,
// without the set's lock), and returns a function that stops the calls.
// Unlike the hooks, any number of watchers may be added at any time, so a
// library (a cluster node, say) can follow a set whose hooks belong to its
// user.
//
// A watcher added while peers come and go may see a join for a peer that
// was in the set before Watch returned, and events for one id from
// different goroutines may reach it out of order: a watcher that needs the
// truth looks the id up with [PeerSet.Get] when it acts.
func (s *PeerSet) Watch(fn func(id string, p *Peer, joined bool)) (stop func()) {
	return s.watchers.add(fn)
}

// watchers is the list of a PeerSet's watchers.
type watchers struct {
	mu   sync.RWMutex
	next int
	fns  map[int]func(id string, p *Peer, joined bool)
}

func (w *watchers) add(fn func(id string, p *Peer, joined bool)) (stop func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = make(map[int]func(id string, p *Peer, joined bool))
	}
	key := w.next
	w.next++
	w.fns[key] = fn
	return func() {
		w.mu.Lock()
		delete(w.fns, key)
		w.mu.Unlock()
	}
}

// call runs every watcher, without the list's lock held.
func (w *watchers) call(id string, p *Peer, joined bool) {
	w.mu.RLock()
	if len(w.fns) == 0 {
		w.mu.RUnlock()
		return
	}
	fns := make([]func(string, *Peer, bool), 0, len(w.fns))
	for _, fn := range w.fns {
		fns = append(fns, fn)
	}
	w.mu.RUnlock()
	for _, fn := range fns {
		fn(id, p, joined)
	}
}
