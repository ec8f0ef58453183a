package rpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyrpc/parley/codec"
)

// Peer is one end of a connection. It calls and notifies the other end,
// and serves the other end's calls and notifications, concurrently, over
// one [Transport]. Both ends of a connection are Peers: there is no client
// or server at this level.
//
// A Peer's methods are safe for concurrent use.
type Peer struct {
	t              Transport
	codec          codec.Codec
	appender       codec.ValueAppender      // nil if the codec has none
	handler        Handler                  // interceptors applied
	inline         func(method string) bool // nil: no method runs inline
	invoke         Invoker                  // interceptors applied
	log            *slog.Logger
	maxMessageSize int
	defaultTimeout time.Duration

	// ctx is the parent of every handler's context; it carries the peer
	// and is cancelled when the peer ends.
	ctx    context.Context
	cancel context.CancelFunc

	inlineCtx     context.Context // ctx, marked for inline handlers
	inlineUsed    atomic.Bool     // an inline handler has run
	inlineRunning atomic.Bool     // an inline handler is running

	// forker is t, if it can fork its reading: calls' handlers then run
	// on the reading goroutine until they block (see handoff.go).
	forker Forker
	run    runState
	// reader is t, if callers waiting for their answers can read it;
	// readingCallers counts the callers in its ReadFor.
	reader         CallerReader
	readingCallers atomic.Int32
	runCtx         context.Context // ctx, marked for handlers run on the reading goroutine

	nextID    atomic.Int64
	handlers  chan struct{} // one token per running call handler
	sendSlots chan struct{} // one token per message waiting for the transport
	notes     notifications
	scratch   atomic.Pointer[scratchBuf] // Decode's output, reused; taken by each delivery

	// mu guards the in-flight state below; it is never held across I/O or
	// user code.
	mu      sync.Mutex
	pending map[int64]*pendingCall // our calls awaiting an answer
	serving map[codec.ID]*callCtx  // their calls being handled
	err     error                  // why the peer ended; set once
	quit    chan struct{}          // closed when the peer starts ending

	done chan struct{} // closed when the transport has reported its end
}

// NewPeer starts a peer over t. The options are checked here; a bad one is
// reported as an error and t is left untouched. The peer's lifetime is its
// own: it ends with [Peer.Close] or when the transport reports the link
// gone, never because some context ended.
func NewPeer(t Transport, opts ...Option) (*Peer, error) {
	if t == nil {
		return nil, errors.New("rpc: NewPeer: nil transport")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	p := &Peer{
		t:              t,
		codec:          cfg.codec,
		log:            cfg.logger,
		maxMessageSize: cfg.maxMessageSize,
		defaultTimeout: cfg.defaultTimeout,
		handlers:       make(chan struct{}, cfg.maxConcurrency),
		sendSlots:      make(chan struct{}, cfg.sendQueue),
		pending:        make(map[int64]*pendingCall),
		serving:        make(map[codec.ID]*callCtx),
		quit:           make(chan struct{}),
		done:           make(chan struct{}),
	}
	p.appender, _ = cfg.codec.(codec.ValueAppender)
	h := cfg.handler
	if h == nil {
		h = NewRouter()
	}
	p.inline = inlineRule(h)
	p.handler, p.invoke = chain(cfg.interceptors, h, p.transmit)
	p.notes.init(p, cfg.maxConcurrency)
	base, cancel := context.WithCancel(context.Background())
	p.ctx, p.cancel = context.WithValue(base, peerKey{}, p), cancel
	p.inlineCtx = inlineContext{p.ctx, p}
	p.forker, _ = t.(Forker)
	p.reader, _ = t.(CallerReader)
	p.runCtx = context.WithValue(p.ctx, runKey{}, p)
	p.scratch.Store(new(scratchBuf))
	t.Start(inbound{p})
	return p, nil
}

// Codec returns the peer's codec.
func (p *Peer) Codec() codec.Codec { return p.codec }

// Close ends the peer: it closes the transport, cancels the contexts of
// running handlers, and ends every call waiting for an answer with
// [ErrClosed]. It returns once the transport has stopped delivering; it
// does not wait for handlers, which may themselves call Close (an [Inline]
// handler's Close does not wait for the transport either). Close is
// idempotent; it returns nil.
func (p *Peer) Close() error {
	p.end(ErrClosed)
	_ = p.t.Close()
	if p.inlineRunning.Load() {
		// Perhaps called by that handler, on the goroutine that must
		// return before the transport can report its end.
		return nil
	}
	// A handler running on the reading goroutine would hold up the
	// transport's report of its end until it returned.
	p.forkRunning()
	<-p.done
	return nil
}

// fail ends the peer because its link failed under a send, and closes the
// transport. Reading may be stuck (waiting for a handler slot, say) and
// unable to learn of the failure itself; this frees it.
func (p *Peer) fail(err error) {
	p.end(fmt.Errorf("%w: %w", ErrConnectionLost, err))
	_ = p.t.Close()
}

// Done returns a channel closed when the peer has ended.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Err returns why the peer ended: [ErrClosed] after Close, an error
// wrapping [ErrConnectionLost] and the transport's cause when the link
// dropped. It returns nil while the peer is running.
func (p *Peer) Err() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Wait blocks until the peer has ended and returns [Peer.Err].
func (p *Peer) Wait() error {
	<-p.done
	return p.Err()
}

// end records why the peer ends, once, then retires every pending call and
// cancels every handler. It is safe to call any number of times.
func (p *Peer) end(cause error) {
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return
	}
	p.err = cause
	close(p.quit)
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()

	p.cancel()
	for _, c := range pending {
		c.ch <- answer{err: cause}
	}
}

// peerKey is the context key of the peer serving a handler.
type peerKey struct{}

// PeerFromContext returns the peer whose handler ctx belongs to, or nil.
// A handler uses it to call back the end that called it.
func PeerFromContext(ctx context.Context) *Peer {
	p, _ := ctx.Value(peerKey{}).(*Peer)
	return p
}
