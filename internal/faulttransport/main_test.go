package faulttransport_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/faulttransport"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var codecs = []codec.Codec{json.Codec{}, cbor.Codec{}}

// tokens makes every call and notification of the test binary unique, so
// that an answer names the call it belongs to.
var tokens atomic.Int64

// answerOf is the result of method "f" for a token: unique per call, so a
// result delivered to the wrong call is caught.
func answerOf(tok int64) int64 { return tok*7 + 3 }

// tokenOf inverts answerOf.
func tokenOf(result int64) int64 { return (result - 3) / 7 }

// world is two peers over a pipe, the one on side A through a fault
// transport, both serving "f" and "note", with the bookkeeping to prove
// that nothing was lost, duplicated or misdelivered.
type world struct {
	t     *testing.T
	codec codec.Codec
	ft    *faulttransport.Transport
	a, b  *rpc.Peer
	logA  *wireErrors // error answers with no id that A received
	logB  *wireErrors

	// "block" handlers signal started, wait for gate to close (ignoring
	// their context, as a handler busy with slow work would), answer,
	// and signal finished.
	gate     chan struct{}
	started  chan int64
	finished chan int64

	mu        sync.Mutex
	invoked   map[int64]int // "f" handler runs per token
	noted     map[int64]int // "note" deliveries per token
	calls     map[int64]*callRecord
	notesSent map[int64]bool
	live      int // workers of load still running
}

// callRecord is the outcome of one call.
type callRecord struct {
	from    string // "A" or "B"
	returns int
	result  int64
	err     error
}

func newWorld(t *testing.T, c codec.Codec, plan faulttransport.Plan, opts ...rpc.Option) *world {
	t.Helper()
	w := &world{
		t: t, codec: c,
		logA: new(wireErrors), logB: new(wireErrors),
		gate:      make(chan struct{}),
		started:   make(chan int64, 1024),
		finished:  make(chan int64, 1024),
		invoked:   make(map[int64]int),
		noted:     make(map[int64]int),
		calls:     make(map[int64]*callRecord),
		notesSent: make(map[int64]bool),
	}
	ta, tb := rpc.Pipe()
	ft, err := faulttransport.New(ta, plan)
	if err != nil {
		t.Fatal(err)
	}
	w.ft = ft
	base := []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(w.router())}
	if w.a, err = rpc.NewPeer(ft, append(append(base, rpc.WithLogger(slog.New(w.logA))), opts...)...); err != nil {
		t.Fatal(err)
	}
	if w.b, err = rpc.NewPeer(tb, append(append(base, rpc.WithLogger(slog.New(w.logB))), opts...)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.a.Close(); _ = w.b.Close() })
	return w
}

func (w *world) router() rpc.Handler {
	r := rpc.NewRouter()
	must(w.t, r.Register("f", rpc.Func(func(_ context.Context, p []int64) (int64, error) {
		w.mu.Lock()
		w.invoked[p[0]]++
		w.mu.Unlock()
		return answerOf(p[0]), nil
	})))
	must(w.t, r.Register("note", rpc.Func(func(_ context.Context, p []int64) (any, error) {
		w.mu.Lock()
		w.noted[p[0]]++
		w.mu.Unlock()
		return nil, nil
	})))
	must(w.t, r.Register("block", rpc.Func(func(_ context.Context, p []int64) (int64, error) {
		w.started <- p[0]
		<-w.gate
		defer func() { w.finished <- p[0] }()
		return answerOf(p[0]), nil
	})))
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// call makes one call of "f" with a fresh token and records its outcome.
func (w *world) call(ctx context.Context, p *rpc.Peer) error {
	from := "A"
	if p == w.b {
		from = "B"
	}
	tok := tokens.Add(1)
	rec := &callRecord{from: from}
	w.mu.Lock()
	w.calls[tok] = rec
	w.mu.Unlock()
	var got int64
	err := p.Call(ctx, "f", []int64{tok}, &got)
	w.mu.Lock()
	rec.returns++
	rec.result, rec.err = got, err
	w.mu.Unlock()
	return err
}

// notify sends "note" with a fresh token and records it if it was sent.
func (w *world) notify(ctx context.Context, p *rpc.Peer) {
	tok := tokens.Add(1)
	if p.Notify(ctx, "note", []int64{tok}) == nil {
		w.mu.Lock()
		w.notesSent[tok] = true
		w.mu.Unlock()
	}
}

// load runs workers goroutines on each side, each making calls calls and
// a notification after every noteEvery-th call. A worker stops at its
// first failed call (the link is gone, or the call was swept). It returns
// a channel closed when every worker has returned.
func (w *world) load(ctx context.Context, workers, calls, noteEvery int) <-chan struct{} {
	var wg sync.WaitGroup
	for _, p := range []*rpc.Peer{w.a, w.b} {
		for range workers {
			wg.Add(1)
			w.mu.Lock()
			w.live++
			w.mu.Unlock()
			go func() {
				defer wg.Done()
				defer func() {
					w.mu.Lock()
					w.live--
					w.mu.Unlock()
				}()
				for i := range calls {
					if w.call(ctx, p) != nil {
						return
					}
					if noteEvery > 0 && i%noteEvery == 0 {
						w.notify(ctx, p)
					}
				}
			}()
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// stuck returns the tokens of the calls in flight, and whether every
// running worker is waiting in one of them (none is between calls).
func (w *world) stuck() ([]int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var toks []int64
	for tok, rec := range w.calls {
		if rec.returns == 0 {
			toks = append(toks, tok)
		}
	}
	return toks, len(toks) == w.live
}

// hit is what the injected faults hit, by token.
type hit struct {
	requests  map[int64]bool // "f" calls whose request was hit
	responses map[int64]bool // "f" calls whose answer was hit
	notes     map[int64]bool // "note" notifications hit
}

// hits decodes the messages the faults of the given kinds hit.
func (w *world) hits(kinds ...faulttransport.Kind) hit {
	h := hit{requests: map[int64]bool{}, responses: map[int64]bool{}, notes: map[int64]bool{}}
	for _, inj := range w.ft.Stats().Injected {
		match := false
		for _, k := range kinds {
			match = match || inj.Fault.Kind == k
		}
		if !match {
			continue
		}
		msgs, _, err := w.codec.Decode(nil, inj.Msg)
		if err != nil {
			w.t.Fatalf("a fault hit a message that does not decode: %v", err)
		}
		for _, m := range msgs {
			var p []int64
			var r int64
			switch {
			case m.Method == "f" && !m.ID.IsZero() && w.codec.Unmarshal(m.Params, &p) == nil:
				h.requests[p[0]] = true
			case m.Method == "note" && w.codec.Unmarshal(m.Params, &p) == nil:
				h.notes[p[0]] = true
			case m.Method == "" && m.Result != nil && inj.Fault.Kind != faulttransport.Mutate &&
				w.codec.Unmarshal(m.Result, &r) == nil: // the tests' Mutate spares answers
				h.responses[tokenOf(r)] = true
			}
		}
	}
	return h
}

// waitUntil polls cond until it holds, failing the test after a generous
// bound (a hang, not slowness, is what it catches).
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitState(t, what, func() string { return "" }, cond)
}

// waitState is waitUntil, saying what state describes on failure.
func waitState(t testing.TB, what string, state func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s %s", what, state())
		}
		time.Sleep(time.Millisecond)
	}
}

// wait waits for ch to close, failing the test after a generous bound.
func wait(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// wireErrors is a slog handler that keeps the codes of the error answers
// with no usable id that a peer received ("the other end reported an
// error"): how a peer learns that something it sent could not be parsed.
type wireErrors struct {
	mu    sync.Mutex
	codes []int64
}

func (l *wireErrors) Enabled(context.Context, slog.Level) bool { return true }
func (l *wireErrors) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *wireErrors) WithGroup(string) slog.Handler            { return l }

func (l *wireErrors) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "rpc: the other end reported an error" {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "code" {
			l.mu.Lock()
			l.codes = append(l.codes, a.Value.Int64())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

// count returns how many answers with the code were received.
func (l *wireErrors) count(code rpc.Code) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.codes {
		if c == int64(code) {
			n++
		}
	}
	return n
}

// errClass names an error's class, for messages.
func errClass(err error) string {
	var e *rpc.Error
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, rpc.ErrConnectionLost):
		return "connection lost"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.As(err, &e) && e.Remote():
		return fmt.Sprintf("remote %d", e.Code)
	}
	return "other: " + err.Error()
}
