package rpc

import "context"

// Context returns the peer's own context: it carries the peer's values
// ([WithValue], [PeerFromContext]) and is cancelled when the peer starts
// ending. Code that keeps state per peer (the hub, say) hangs its cleanup
// on it with context.AfterFunc, with no goroutine of its own.
func (p *Peer) Context() context.Context { return p.ctx }
