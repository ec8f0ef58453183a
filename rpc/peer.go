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

	nextID    atomic.Int64
	handlers  chan struct{} // one token per running call handler
	answers   chan struct{} // one token per call read and not yet answered
	sendSlots chan struct{} // one token per message waiting for the transport
	sendBytes sendBudget    // the bytes of those messages
	notes     notifications
	scratch   []codec.Message // Decode's output, reused by each delivery

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
		answers:        make(chan struct{}, 2*cfg.maxConcurrency),
		sendSlots:      make(chan struct{}, cfg.sendQueue),
		sendBytes:      sendBudget{max: cfg.sendBytes},
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
	p.handler, p.invoke = chain(cfg.interceptors, withProgress(h), p.transmit)
	p.notes.init(p, cfg.maxConcurrency)
	base, cancel := context.WithCancel(context.Background())
	for _, kv := range cfg.values {
		base = context.WithValue(base, kv.key, kv.value)
	}
	p.ctx, p.cancel = context.WithValue(base, peerKey{}, p), cancel
	p.inlineCtx = inlineContext{p.ctx, p}
	peerOpened()
	t.Start(inbound{p})
	return p, nil
}

// Value returns the value attached to the peer under key with
// [WithValue], or nil.
func (p *Peer) Value(key any) any { return p.ctx.Value(key) }

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

	peerEnded()
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
