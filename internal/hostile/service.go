package hostile

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// The limits of the server-side peers under test. The corpus is built for
// them: its largest messages (a million-element array, a 1 MiB method
// name, a batch of 70,000 notifications) fit in MaxMessageSize, and
// the oversize case is one byte over it.
const (
	// MaxMessageSize is the server peers' maximum message size.
	MaxMessageSize = 4 << 20
	// MaxConcurrency is the server peers' limit on calls running at once.
	MaxConcurrency = 8
)

// Service is what the server side of a [Target] serves: the methods the
// corpus calls, with counters the checker reads. One Service may serve
// many connections, one after the other.
type Service struct {
	router *rpc.Router
	hub    *hub.Hub

	log    *slog.Logger
	panics atomic.Int32 // error records logged: handler panics, failed encodings

	running atomic.Int32 // "block" handlers running now
	peak    atomic.Int32 // the most that ever ran at once

	mu   sync.Mutex
	gate chan struct{} // "block" handlers wait for it to close
}

// NewService returns a Service with these methods:
//
//	add    []int -> int, their sum
//	keys   map[string]any -> int, how many keys
//	echo   any -> the params, as they came
//	block  any -> "released": waits for the gate to open
//	       ([Service.Release]) or the call to be cancelled, counting how
//	       many run at once
//
// and a hub's methods (hub.subscribe, hub.publish, ...: [Service.Hub]),
// with the bounds [HubFlood] pushes against.
func NewService() *Service {
	s := &Service{router: rpc.NewRouter(), gate: make(chan struct{})}
	s.log = slog.New(countingHandler{&s.panics})
	must(s.router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	})))
	must(s.router.Register("keys", rpc.Func(func(_ context.Context, p map[string]any) (int, error) {
		return len(p), nil
	})))
	// Not rpc.Func with rpc.Raw params: Raw does not decode from the wire.
	must(s.router.Register("echo", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
		return req.Params(), nil
	})))
	must(s.router.Register("block", rpc.HandlerFunc(s.block)))
	s.hub = newServiceHub(s.router)
	return s
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Handler returns the Service's handler.
func (s *Service) Handler() rpc.Handler { return s.router }

// PeerOptions are the options a server peer under test must have: the
// Service's handler, the limits the corpus is built for, and a logger
// that counts errors (a handler panic is one) and drops the rest: the
// corpus makes the peers log a warning for every failed notification.
func (s *Service) PeerOptions() []rpc.Option {
	return []rpc.Option{
		rpc.WithHandler(s.router),
		rpc.WithMaxMessageSize(MaxMessageSize),
		rpc.WithMaxConcurrency(MaxConcurrency),
		rpc.WithLogger(s.log),
	}
}

// Panics returns how many records at level Error the peers logged: handler
// panics, answers that failed to encode. [Run] wants none.
func (s *Service) Panics() int { return int(s.panics.Load()) }

// countingHandler is a slog.Handler that counts records at level Error and
// above and drops everything.
type countingHandler struct{ n *atomic.Int32 }

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h countingHandler) Handle(context.Context, slog.Record) error {
	h.n.Add(1)
	return nil
}

func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

func (h countingHandler) WithGroup(string) slog.Handler { return h }

func (s *Service) block(ctx context.Context, _ *rpc.Request) (any, error) {
	// Take the gate before counting in, so that a handler counted by
	// Running waits for the gate Release will open.
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-gate:
		return "released", nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Running returns how many "block" handlers are running now.
func (s *Service) Running() int { return int(s.running.Load()) }

// Peak returns the most "block" handlers that ever ran at once.
func (s *Service) Peak() int { return int(s.peak.Load()) }

// Release opens the gate: every "block" handler, waiting or to come,
// returns at once, until [Service.Hold].
func (s *Service) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
}

// Hold closes the gate again: "block" handlers wait until the next
// [Service.Release]. A new Service starts held.
func (s *Service) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.gate:
		s.gate = make(chan struct{})
	default:
	}
}

// ResetPeak forgets the peak count.
func (s *Service) ResetPeak() { s.peak.Store(0) }
