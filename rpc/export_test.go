package rpc

// RunsOnReader returns how many calls p has run on its reading goroutine,
// and whether its calls get goroutines of their own for now (after a
// handler was seen to block).
func RunsOnReader(p *Peer) (runs uint64, spawning bool) {
	p.run.mu.Lock()
	defer p.run.mu.Unlock()
	return p.run.seq, p.run.spawnUntil.Load() != 0
}
