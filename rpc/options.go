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
	defaultTimeout time.Duration
	logger         *slog.Logger
}

func newConfig(opts []Option) (*config, error) {
	c := &config{
		codec:          json.Codec{},
		maxMessageSize: DefaultMaxMessageSize,
		maxConcurrency: DefaultMaxConcurrency,
		sendQueue:      DefaultSendQueue,
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
// goroutines. A handler's slot is freed when it returns, before its answer
// is written, so two peers flooding each other cannot wait on each other.
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
