package websocket

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// Defaults for [ReconnectOptions].
const (
	// DefaultMinBackoff is the first wait before re-dialing.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff is the longest wait between dials.
	DefaultMaxBackoff = 10 * time.Second
)

// ReconnectOptions configures a [ReconnectingClient].
type ReconnectOptions struct {
	// DialOptions are used for every dial. Handler and PeerOptions are
	// given once and serve every link in turn.
	DialOptions

	// MinBackoff and MaxBackoff bound the wait between dials: it starts at
	// MinBackoff after a drop or a first failure and doubles with each
	// failure in a row, up to MaxBackoff. Each wait is jittered, between
	// half and all of that value, so that many clients do not come back in
	// step. Zero means [DefaultMinBackoff] and [DefaultMaxBackoff].
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// OnConnect, if set, is called with the peer of each new link:
	// re-subscribe here. Calls that waited for the link may run
	// concurrently with it.
	OnConnect func(p *rpc.Peer)

	// OnDisconnect, if set, is called when a link that OnConnect reported
	// has ended, with the reason (see [rpc.Peer.Err]); also for the last
	// link when the client is closed.
	//
	// The two callbacks run on the client's own goroutine, one at a time,
	// alternating; while one runs, the client neither notices a drop nor
	// dials. They may call any method of the client, including Close.
	OnDisconnect func(err error)
}

// ReconnectingClient is a client that keeps a link to a server: it dials,
// re-dials with exponential backoff and jitter after the link drops, and
// serves the server's calls on every link with the same handler.
//
// Its Call and Notify wait for a link, up to their context's end. A call
// that was in flight when the link dropped fails with an error wrapping
// [ErrDisconnected] (and [rpc.ErrConnectionLost]); the client never sends
// it again by itself, since it may have run. A call that the client knows
// was not written before the drop waits for the next link instead.
//
// Every failed dial is retried, a refused handshake (say 401) included;
// a call that gives up waiting for the link tells the last dial error.
type ReconnectingClient struct {
	d            *dialer
	minB, maxB   time.Duration
	onConnect    func(p *rpc.Peer)
	onDisconnect func(err error)

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	done   chan struct{} // closed when run has returned

	inCallback atomic.Bool

	mu      sync.Mutex
	cur     *linkState    // nil while the link is down
	up      chan struct{} // closed when a link comes up; replaced when it drops
	lastErr error         // the last dial error, while down
}

// linkState is one link's peer and a channel closed once the client has
// noticed that link's end.
type linkState struct {
	peer *rpc.Peer
	gone chan struct{}
}

// NewReconnecting checks the options and returns a client that starts
// dialing url at once, in the background. The options are copied; opts may
// be nil.
func NewReconnecting(url string, opts *ReconnectOptions) (*ReconnectingClient, error) {
	var o ReconnectOptions
	if opts != nil {
		o = *opts
	}
	d, err := newDialer(url, &o.DialOptions)
	if err != nil {
		return nil, err
	}
	if o.MinBackoff < 0 || o.MaxBackoff < 0 {
		return nil, errors.New("websocket: MinBackoff and MaxBackoff must not be negative")
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.MaxBackoff < o.MinBackoff {
		return nil, fmt.Errorf("websocket: MaxBackoff %v is less than MinBackoff %v", o.MaxBackoff, o.MinBackoff)
	}
	c := &ReconnectingClient{
		d:            d,
		minB:         o.MinBackoff,
		maxB:         o.MaxBackoff,
		onConnect:    o.OnConnect,
		onDisconnect: o.OnDisconnect,
		done:         make(chan struct{}),
		up:           make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	return c, nil
}

// run dials, waits for the link to end, and dials again, until Close.
func (c *ReconnectingClient) run() {
	defer close(c.done)
	var delay time.Duration // the first dial goes at once
	failures := 0
	for {
		if delay > 0 && !c.sleep(delay) {
			return
		}
		p, err := c.d.dial(c.ctx)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			c.mu.Lock()
			c.lastErr = err
			c.mu.Unlock()
			delay = c.backoff(failures)
			failures++
			continue
		}
		l := &linkState{peer: p, gone: make(chan struct{})}
		c.mu.Lock()
		if c.ctx.Err() != nil {
			c.mu.Unlock()
			_ = p.Close()
			return
		}
		c.cur, c.lastErr = l, nil
		close(c.up)
		c.mu.Unlock()
		c.callback(func() {
			if c.onConnect != nil {
				c.onConnect(p)
			}
		})

		select {
		case <-p.Done():
		case <-c.ctx.Done():
			_ = p.Close()
		}
		c.mu.Lock()
		c.cur = nil
		c.up = make(chan struct{})
		c.mu.Unlock()
		close(l.gone)
		c.callback(func() {
			if c.onDisconnect != nil {
				c.onDisconnect(p.Err())
			}
		})
		if c.ctx.Err() != nil {
			return
		}
		// Wait before re-dialing even after a good link, so that a server
		// that accepts and drops at once is not hammered.
		delay, failures = c.backoff(0), 1
	}
}

func (c *ReconnectingClient) callback(f func()) {
	c.inCallback.Store(true)
	defer c.inCallback.Store(false)
	f()
}

// backoff returns the jittered wait after n failures in a row.
func (c *ReconnectingClient) backoff(n int) time.Duration {
	d := c.maxB
	if n < 30 {
		if b := c.minB << n; b > 0 && b < d {
			d = b
		}
	}
	// Equal jitter: half fixed, half random.
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or less if the client is closed; it reports whether the
// client is still open.
func (c *ReconnectingClient) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// errClientClosed is returned by calls on a closed client.
var errClientClosed = fmt.Errorf("websocket: reconnecting client closed: %w", rpc.ErrClosed)

// Peer returns the peer of the current link, waiting for one up to ctx's
// end. The peer is good until that link drops; use it for [rpc.Peer.Batch]
// or the generic helpers of package rpc. After Close it returns an error
// wrapping [rpc.ErrClosed]. If ctx ends first, the error wraps ctx's error
// and tells the last dial error.
func (c *ReconnectingClient) Peer(ctx context.Context) (*rpc.Peer, error) {
	for {
		if c.ctx.Err() != nil {
			return nil, errClientClosed
		}
		c.mu.Lock()
		l, wait := c.cur, c.up
		c.mu.Unlock()
		if l != nil {
			select {
			case <-l.peer.Done():
				wait = l.gone // dropped, and not noticed yet
			default:
				return l.peer, nil
			}
		}
		select {
		case <-wait:
		case <-c.ctx.Done():
			return nil, errClientClosed
		case <-ctx.Done():
			c.mu.Lock()
			last := c.lastErr
			c.mu.Unlock()
			err := fmt.Errorf("websocket: waiting for the connection to %s: %w", c.d.url, ctx.Err())
			if last != nil {
				err = fmt.Errorf("%w (last dial error: %v)", err, last)
			}
			return nil, err
		}
	}
}

// Current returns the peer of the current link, or nil while the link is
// down. It does not wait.
func (c *ReconnectingClient) Current() *rpc.Peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil
	}
	return c.cur.peer
}

// Call calls method on the server, as [rpc.Peer.Call] does, once a link is
// up; it waits for one up to ctx's end. See [ReconnectingClient] for what
// happens to a call in flight when the link drops.
func (c *ReconnectingClient) Call(ctx context.Context, method string, params, result any) error {
	return c.do(ctx, func(p *rpc.Peer) error { return p.Call(ctx, method, params, result) })
}

// Notify sends a notification, as [rpc.Peer.Notify] does, once a link is
// up; it waits for one up to ctx's end.
func (c *ReconnectingClient) Notify(ctx context.Context, method string, params any) error {
	return c.do(ctx, func(p *rpc.Peer) error { return p.Notify(ctx, method, params) })
}

func (c *ReconnectingClient) do(ctx context.Context, f func(p *rpc.Peer) error) error {
	for {
		p, err := c.Peer(ctx)
		if err != nil {
			return err
		}
		err = f(p)
		if err == nil || !errors.Is(err, rpc.ErrConnectionLost) {
			return err
		}
		if errors.Is(err, errNotSent) {
			// Nothing was written: safe to send on the next link, once
			// this one's end has been noticed.
			select {
			case <-p.Done():
				continue
			case <-ctx.Done():
				return fmt.Errorf("websocket: waiting for the connection to %s: %w", c.d.url, ctx.Err())
			}
		}
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
}

// Close stops dialing and closes the current link; calls waiting for a
// link fail with an error wrapping [rpc.ErrClosed]. It waits for the
// client's goroutine to end, unless a callback is running (it may be the
// caller); [ReconnectingClient.Done] tells when it has. Close is
// idempotent.
func (c *ReconnectingClient) Close() error {
	c.cancel()
	if p := c.Current(); p != nil {
		_ = p.Close()
	}
	if !c.inCallback.Load() {
		<-c.done
	}
	return nil
}

// Done returns a channel closed when the client, once closed, has stopped
// entirely: no dial, no link, no callback running.
func (c *ReconnectingClient) Done() <-chan struct{} { return c.done }
