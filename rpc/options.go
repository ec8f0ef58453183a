package rpc

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
)

// Defaults for the limits a Peer enforces.
const (
	DefaultMaxMessageSize = 1 << 20 // 1 MiB
	DefaultMaxConcurrency = 128
	DefaultSendQueue      = 256
	DefaultSendBytes      = 4 << 20 // 4 MiB
)

// Option configures a [Peer]. Options are checked by [NewPeer], which
// reports a bad value as an error.
type Option func(*config) error

type config struct {
	codec          codec.Codec
	handler        Handler
	interceptors   []Interceptor
	maxMessageSize int
	maxConcurrency int
	sendQueue      int
	sendBytes      int
	defaultTimeout time.Duration
	logger         *slog.Logger
	values         []keyValue
}

// keyValue is one value given with [WithValue].
type keyValue struct{ key, value any }

func newConfig(opts []Option) (*config, error) {
	c := &config{
		codec:          json.Codec{},
		maxMessageSize: DefaultMaxMessageSize,
		maxConcurrency: DefaultMaxConcurrency,
		sendQueue:      DefaultSendQueue,
		sendBytes:      DefaultSendBytes,
		logger:         slog.Default(),
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// WithCodec sets the codec; the default is JSON (codec/json).
func WithCodec(c codec.Codec) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("rpc: WithCodec: nil codec")
		}
		cfg.codec = c
		return nil
	}
}

// WithHandler sets the handler for the calls and notifications the other
// end sends; usually a [*Router]. Without one, every call is answered
// "method not found" and notifications are dropped.
func WithHandler(h Handler) Option {
	return func(cfg *config) error {
		if h == nil {
			return errors.New("rpc: WithHandler: nil handler")
		}
		cfg.handler = h
		return nil
	}
}

// WithInterceptors adds interceptors. The first one given is the
// outermost: it sees a call first on the way in and last on the way out.
// Each applies to both calls and notifications, in its direction.
func WithInterceptors(is ...Interceptor) Option {
	return func(cfg *config) error {
		for _, i := range is {
			if i == nil {
				return errors.New("rpc: WithInterceptors: nil interceptor")
			}
		}
		cfg.interceptors = append(cfg.interceptors, is...)
		return nil
	}
}

// WithMaxMessageSize bounds the size of an inbound message, in bytes
// (default [DefaultMaxMessageSize]). A larger message is answered with
// -32600 and dropped; transports that can, refuse it while reading.
func WithMaxMessageSize(n int) Option {
	return func(cfg *config) error {
		if n < 64 {
			return fmt.Errorf("rpc: WithMaxMessageSize(%d): must be at least 64 bytes", n)
		}
		cfg.maxMessageSize = n
		return nil
	}
}

// WithMaxConcurrency bounds the number of inbound calls whose handlers run
// at once (default [DefaultMaxConcurrency]) and the number of notifications
// waiting to be handled. Beyond it the peer stops reading until a handler
// finishes: backpressure on the other end, not an unbounded pile of
// goroutines. It also bounds the answers waiting for a link that stops
// taking data: at most twice n calls are between being read and having
// their answers written (or handed to the transport's own bounded
// buffer), so a remote end that sends calls without reading their answers
// stops being read. Two peers that flood each other beyond that stop
// reading each other until the transport's write timeout ends the link
// (see the adapters' slow-consumer policy).
//
// A handler that waits on a call to the other end holds its slot while it
// waits; if every slot is held that way, the answers cannot be read until
// the calls' contexts end. Size the limit for such call-backs. (Should the
// link fail meanwhile, the first send that fails on it ends the peer and
// frees them all.)
func WithMaxConcurrency(n int) Option {
	return func(cfg *config) error {
		if n < 1 {
			return fmt.Errorf("rpc: WithMaxConcurrency(%d): must be at least 1", n)
		}
		cfg.maxConcurrency = n
		return nil
	}
}

// WithSendQueue bounds the number of outbound messages waiting for the
// transport at once (default [DefaultSendQueue]). Beyond it, senders wait,
// each up to its own context's end.
func WithSendQueue(n int) Option {
	return func(cfg *config) error {
		if n < 1 {
			return fmt.Errorf("rpc: WithSendQueue(%d): must be at least 1", n)
		}
		cfg.sendQueue = n
		return nil
	}
}

// WithSendBytes bounds the bytes of the outbound messages waiting for the
// transport at once (default [DefaultSendBytes]); with [WithSendQueue] it
// bounds, in count and in bytes, what a link that stops taking data can
// make a peer hold. Beyond it, senders wait, each up to its own context's
// end. A message larger than n is sent when nothing else waits.
func WithSendBytes(n int) Option {
	return func(cfg *config) error {
		if n < 1 {
			return fmt.Errorf("rpc: WithSendBytes(%d): must be at least 1", n)
		}
		cfg.sendBytes = n
		return nil
	}
}

// WithDefaultTimeout sets a deadline for outbound calls whose context has
// none. Zero (the default) means no deadline.
func WithDefaultTimeout(d time.Duration) Option {
	return func(cfg *config) error {
		if d < 0 {
			return fmt.Errorf("rpc: WithDefaultTimeout(%v): must not be negative", d)
		}
		cfg.defaultTimeout = d
		return nil
	}
}

// WithLogger sets where the peer reports handler panics and failed
// notifications (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(cfg *config) error {
		if l == nil {
			return errors.New("rpc: WithLogger: nil logger")
		}
		cfg.logger = l
		return nil
	}
}

// WithValue attaches a value to the peer under key, as context.WithValue
// does: [Peer.Value] returns it, and so does the context of every handler
// the peer runs. It carries what a connection learned at its handshake
// (the authenticated user, say): an adapter's Accept returns it with the
// peer's other options, and handlers, interceptors and the hub's
// authorization read it back. The key should be of an unexported type of
// the package that defines it; a nil key is refused.
func WithValue(key, value any) Option {
	return func(cfg *config) error {
		if key == nil {
			return errors.New("rpc: WithValue: nil key")
		}
		cfg.values = append(cfg.values, keyValue{key, value})
		return nil
	}
}

// Settings are the limits and codec that a list of options gives a peer.
// Adapters read them before any connection exists: to size a read limit
// from the maximum message size, say.
type Settings struct {
	Codec          codec.Codec
	MaxMessageSize int
	MaxConcurrency int
	SendQueue      int
	SendBytes      int
}

// CheckOptions applies opts as [NewPeer] does, without making a peer: it
// returns the first invalid option's error, or the settings the options
// give. Adapters call it in their constructors so that a bad option is
// reported there, not at the first connection.
func CheckOptions(opts ...Option) (Settings, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return Settings{}, err
	}
	return Settings{
		Codec:          cfg.codec,
		MaxMessageSize: cfg.maxMessageSize,
		MaxConcurrency: cfg.maxConcurrency,
		SendQueue:      cfg.sendQueue,
		SendBytes:      cfg.sendBytes,
	}, nil
}
