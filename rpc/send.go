package rpc

import (
	"context"
	"errors"
	"sync"

	"github.com/parleyrpc/parley/codec"
)

// buffer is pooled scratch for encoding one outbound message: the bytes,
// and the Message handed to the codec (which, passed by pointer to an
// interface method, would otherwise be allocated per message).
type buffer struct {
	b []byte
	m codec.Message
}

var buffers = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 512)} }}

func getBuffer() *buffer { return buffers.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) > 64<<10 {
		return // let one huge message's buffer go
	}
	b.b = b.b[:0]
	b.m = codec.Message{} // hold no references while pooled
	buffers.Put(b)
}

// appendValue encodes v onto dst with the peer's codec. An empty Raw is
// null, as it is inside a larger value: written as nothing, it would
// make the message unreadable, and a call's answer that cannot be read
// is an answer lost.
func (p *Peer) appendValue(dst []byte, v any) ([]byte, error) {
	if raw, ok := v.(Raw); ok && raw.IsZero() {
		v = nil
	} else if ok {
		if raw = raw.bind(p.codec); sameCodec(raw.codec, p.codec) {
			return append(dst, raw.data...), nil
		}
		var err error
		if v, err = raw.value(); err != nil { // another codec's: convert it
			return dst, err
		}
	}
	if p.appender != nil {
		return p.appender.AppendValue(dst, v)
	}
	b, err := p.codec.Marshal(v)
	return append(dst, b...), err
}

// send writes one message, waiting for a place in the bounded send queue
// up to ctx's end or the peer's.
func (p *Peer) send(ctx context.Context, msg []byte) error {
	// Once the peer is ending nothing more goes out: handlers woken by the
	// end must not answer on a link that is being closed.
	select {
	case <-p.quit:
		return p.endErr()
	default:
	}
	select {
	case p.sendSlots <- struct{}{}:
	default:
		select {
		case p.sendSlots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.quit:
			return p.endErr()
		}
	}
	if err := p.sendBytes.acquire(ctx, p.quit, len(msg)); err != nil {
		<-p.sendSlots
		if err == errQuit {
			return p.endErr()
		}
		return err
	}
	err := p.t.Send(ctx, msg)
	p.sendBytes.release(len(msg))
	<-p.sendSlots
	if err != nil && ctx.Err() == nil {
		// Not our giving up: the link is gone. Say so now, to everyone
		// waiting on it, rather than when reading happens to notice.
		p.fail(err)
	}
	return err
}

// endErr returns why the peer ended (it has, or is ending).
func (p *Peer) endErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// sendBudget bounds the bytes of the messages a peer has handed to its
// transport and that are not yet written (or buffered by the transport
// within its own bound). A message larger than the whole budget goes out
// alone.
type sendBudget struct {
	mu   sync.Mutex
	max  int
	used int
	wake chan struct{} // closed when bytes are released while someone waits
}

// errQuit is acquire's error when the peer ends while it waits.
var errQuit = errors.New("rpc: peer ending")

// acquire takes n bytes of the budget, waiting while it is spent, up to
// ctx's end or quit's.
func (b *sendBudget) acquire(ctx context.Context, quit <-chan struct{}, n int) error {
	b.mu.Lock()
	for b.used > 0 && b.used+n > b.max {
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-quit:
			return errQuit
		}
		b.mu.Lock()
	}
	b.used += n
	b.mu.Unlock()
	return nil
}

// release gives n bytes back and wakes whoever waits for them.
func (b *sendBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	wake := b.wake
	b.wake = nil
	b.mu.Unlock()
	if wake != nil {
		close(wake)
	}
}
