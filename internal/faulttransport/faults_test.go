package faulttransport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	ft "github.com/parleyrpc/parley/internal/faulttransport"
	"github.com/parleyrpc/parley/rpc"
)

// figures adds up what the fault tests did, for the log.
type figures struct {
	cases, injected, calls, succeeded, lostToFault, failedLinkLost, refused atomic.Int64
	notes, handlerRuns                                                      atomic.Int64
}

func (f *figures) log(t *testing.T) {
	t.Logf("%d cases, %d faults injected; %d calls: %d succeeded with the right result, "+
		"%d lost with the message a fault destroyed (swept), %d refused as invalid by the other end, "+
		"%d ended with connection lost; %d notifications sent; %d handler runs; "+
		"0 answered twice, 0 answered with another call's result",
		f.cases.Load(), f.injected.Load(), f.calls.Load(), f.succeeded.Load(), f.lostToFault.Load(),
		f.refused.Load(), f.failedLinkLost.Load(), f.notes.Load(), f.handlerRuns.Load())
}

// breakVersion makes a message invalid JSON-RPC (jsonrpc "9.9") while
// keeping it well-formed and its id readable, in either codec.
func breakVersion(msg []byte) []byte {
	return bytes.Replace(msg, []byte("2.0"), []byte("9.9"), 1)
}

// breakRequests is the load tests' Mutate function: it breaks requests and
// notifications and leaves answers alone. A broken answer is answered by
// the core with an error carrying its id, which the other end then takes
// for the answer to a call of its own (TestInvalidAnswerNotMisdelivered).
func breakRequests(c codec.Codec) func([]byte) []byte {
	return func(msg []byte) []byte {
		msgs, _, err := c.Decode(nil, msg)
		if err != nil || len(msgs) != 1 || !msgs[0].IsRequest() {
			return msg
		}
		return breakVersion(msg)
	}
}

// faultAt builds a fault of kind k at message n in direction d.
func faultAt(c codec.Codec, k ft.Kind, d ft.Direction, n int) ft.Fault {
	f := ft.Fault{Kind: k, Dir: d, At: n}
	switch k {
	case ft.Delay:
		f.Delay = 5 * time.Millisecond
	case ft.Mutate:
		f.Mutate = breakRequests(c)
	}
	return f
}

// tableKinds are the kinds the load tests cover (Stall has tests of its own).
var tableKinds = []ft.Kind{ft.Drop, ft.Delay, ft.Truncate, ft.Corrupt, ft.Mutate, ft.Duplicate, ft.Reorder}

// TestFaultAtEveryPosition injects each kind of fault, in each direction,
// at every message of a small two-way workload, with both codecs, and
// checks every call and notification (see runCase).
func TestFaultAtEveryPosition(t *testing.T) {
	const workers, calls, noteEvery = 2, 3, 2
	// Per direction: 2 sides x 2 workers x 3 calls, a request one way and
	// an answer the other, plus 2 notifications per worker: 16 messages.
	// Position 17 is past the end: nothing is injected.
	const positions = 17
	var fig figures
	for _, c := range codecs {
		for _, k := range tableKinds {
			for _, d := range []ft.Direction{ft.Outbound, ft.Inbound} {
				for n := 1; n <= positions; n++ {
					f := faultAt(c, k, d, n)
					t.Run(fmt.Sprintf("%s/%s/%s/%d", c.Name(), k, d, n), func(t *testing.T) {
						runCase(t, c, f, workers, calls, noteEvery, &fig)
					})
				}
			}
		}
	}
	fig.log(t)
}

// TestFaultAtRandomPosition does the same with a heavier workload (8
// workers a side, 25 calls each) and the fault at random positions.
func TestFaultAtRandomPosition(t *testing.T) {
	workers, calls, noteEvery, rounds := 8, 25, 3, 2
	if testing.Short() {
		workers, rounds = 4, 1
	}
	// Per direction: 2 x workers x calls messages for calls, plus the
	// notifications.
	perDir := 2*workers*calls + workers*((calls+noteEvery-1)/noteEvery)
	// PARLEY_FAULT_SEED replays a run whose seed a failure logged.
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PARLEY_FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("PARLEY_FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (PARLEY_FAULT_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	var fig figures
	for _, c := range codecs {
		for _, k := range tableKinds {
			for _, d := range []ft.Direction{ft.Outbound, ft.Inbound} {
				for range rounds {
					f := faultAt(c, k, d, 1+rng.IntN(perDir))
					t.Run(fmt.Sprintf("%s/%s/%s/%d", c.Name(), k, d, f.At), func(t *testing.T) {
						runCase(t, c, f, workers, calls, noteEvery, &fig)
					})
				}
			}
		}
	}
	fig.log(t)
}

// runCase runs a two-way workload over a link with one fault on side A
// and checks, per call and per notification, that:
//   - every call returned exactly once; a successful call got its own
//     result (f(token)), never another call's;
//   - under Delay and Reorder every call succeeded; under Duplicate too,
//     except that a call whose request came twice while its first copy
//     was still being served may be refused -32600 ("id in use"), the
//     core's rule for a second call under an id in progress;
//   - under Drop every call succeeded or failed with ErrConnectionLost,
//     and both peers ended (A with ErrDropped, B with the other end's close);
//   - under Truncate and Corrupt exactly the calls whose request or
//     answer the fault destroyed went unanswered (they end only when the
//     test cancels them), the receiver answered the garbage -32700, and
//     the link stayed up;
//   - under Mutate (a well-formed but invalid message) a hit request was
//     answered -32600 with its own id; a hit answer was not delivered;
//   - handler runs per call: exactly one, none for a destroyed request,
//     one or two for a duplicated one; notifications: once, never for a
//     destroyed one, twice for a duplicated one;
//   - after a fault that leaves the link up, calls both ways still work.
func runCase(t *testing.T, c codec.Codec, f ft.Fault, workers, calls, noteEvery int, fig *figures) {
	w := newWorld(t, c, ft.Plan{Faults: []ft.Fault{f}})
	sweepCtx, sweep := context.WithCancel(context.Background())
	defer sweep()
	done := w.load(sweepCtx, workers, calls, noteEvery)

	lossy := f.Kind == ft.Truncate || f.Kind == ft.Corrupt || f.Kind == ft.Mutate
	// Wait until every call has returned, except those that cannot be
	// answered because the fault destroyed their request or answer.
	waitUntil(t, "every call the fault did not hit to return", func() bool {
		select {
		case <-done:
			return true
		default:
		}
		if !lossy {
			return false
		}
		toks, all := w.stuck()
		if !all {
			return false
		}
		h := w.hits(f.Kind)
		for _, tok := range toks {
			if !h.requests[tok] && !h.responses[tok] {
				return false
			}
		}
		return true
	})
	sweep() // the calls left, if any, were hit: end them
	wait(t, "the workers to return", done)

	// Notifications are handled on their own goroutine, the last of them
	// may still be on its way (and be the message the fault hits), and the
	// first copy of a duplicated request may start running only after the
	// refusal of the second copy has ended its call: wait for what must
	// arrive, by what the fault has hit so far.
	if f.Kind != ft.Drop {
		missing := func(h hit) []string {
			var m []string
			for tok := range w.notesSent {
				if got, want := w.noted[tok], wantNotes(f.Kind, h, tok); got < want {
					m = append(m, fmt.Sprintf("note %d: %d of %d", tok, got, want))
				}
			}
			for tok := range h.requests {
				if f.Kind == ft.Duplicate && w.invoked[tok] == 0 {
					m = append(m, fmt.Sprintf("call %d: not run", tok))
				}
			}
			return m
		}
		waitState(t, "the notifications", func() string {
			h := w.hits(f.Kind)
			w.mu.Lock()
			defer w.mu.Unlock()
			st := w.ft.Stats()
			return fmt.Sprintf("(missing %v; fault %v; injected %q; %s)", missing(h), f, injections(st), counts(st))
		}, func() bool {
			h := w.hits(f.Kind)
			w.mu.Lock()
			defer w.mu.Unlock()
			return len(missing(h)) == 0
		})
	}
	st := w.ft.Stats()
	injected := len(st.Injected) > 0
	h := w.hits(f.Kind)
	if injected {
		fig.injected.Add(1)
	}
	fig.cases.Add(1)

	w.checkBooks(t, f, h, fig)
	if t.Failed() {
		t.Logf("fault %v; injected %d: %q; stats %s", f, len(st.Injected), injections(st), counts(st))
	}

	switch {
	case f.Kind == ft.Drop && injected:
		for _, p := range []*rpc.Peer{w.a, w.b} {
			wait(t, "the peers to end", p.Done())
		}
		if err := w.a.Err(); !errors.Is(err, rpc.ErrConnectionLost) || !errors.Is(err, ft.ErrDropped) {
			t.Errorf("peer A: %v, want connection lost: dropped", err)
		}
		if err := w.b.Err(); !errors.Is(err, rpc.ErrConnectionLost) || errors.Is(err, ft.ErrDropped) {
			t.Errorf("peer B: %v, want connection lost (the other end closed)", err)
		}
	case injected:
		// The link survived the fault: calls both ways still work.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range []*rpc.Peer{w.a, w.b} {
			if err := w.call(ctx, p); err != nil {
				t.Errorf("a call after the fault: %v", err)
			}
		}
		if f.Kind == ft.Truncate || f.Kind == ft.Corrupt {
			// The garbage was answered -32700 (with no id, since none could
			// be read), and the sender heard it.
			sender := w.logA
			if f.Dir == ft.Inbound {
				sender = w.logB
			}
			waitUntil(t, "the -32700 answer to the garbage", func() bool { return sender.count(rpc.CodeParseError) > 0 })
		}
	}
}

// checkBooks checks the outcome of every call and notification of a case
// against what the fault hit (see runCase).
func (w *world) checkBooks(t *testing.T, f ft.Fault, h hit, fig *figures) {
	lossy := f.Kind == ft.Truncate || f.Kind == ft.Corrupt || f.Kind == ft.Mutate
	w.mu.Lock()
	defer w.mu.Unlock()
	fig.calls.Add(int64(len(w.calls)))
	fig.notes.Add(int64(len(w.notesSent)))
	for tok, rec := range w.calls {
		hitReq, hitResp := h.requests[tok], h.responses[tok]
		runs := w.invoked[tok]
		fig.handlerRuns.Add(int64(runs))
		if rec.returns != 1 {
			t.Errorf("call %d from %s returned %d times", tok, rec.from, rec.returns)
		}
		if rec.err == nil {
			fig.succeeded.Add(1)
			if rec.result != answerOf(tok) {
				t.Errorf("call %d from %s got %d, the answer to call %d", tok, rec.from, rec.result, tokenOf(rec.result))
			}
			if lossy && (hitReq || hitResp) {
				t.Errorf("call %d from %s succeeded, but the fault destroyed its request or answer", tok, rec.from)
			}
		} else {
			switch {
			case f.Kind == ft.Drop && errors.Is(rec.err, rpc.ErrConnectionLost):
				fig.failedLinkLost.Add(1)
			case f.Kind == ft.Mutate && hitReq && errors.Is(rec.err, rpc.ErrInvalidRequest) && rpc.IsRemote(rec.err):
				fig.refused.Add(1)
			case f.Kind == ft.Duplicate && hitReq && errors.Is(rec.err, rpc.ErrInvalidRequest) && rpc.IsRemote(rec.err):
				fig.refused.Add(1) // the copy was refused first: "id in use"
			case lossy && (hitReq || hitResp) && errors.Is(rec.err, context.Canceled):
				fig.lostToFault.Add(1)
			default:
				t.Errorf("call %d from %s (request hit: %v, answer hit: %v): %s: %v", tok, rec.from, hitReq, hitResp, errClass(rec.err), rec.err)
			}
		}
		want := 1
		switch {
		case f.Kind == ft.Drop:
			if rec.err != nil && runs == 0 {
				want = 0 // it never reached the other end
			}
		case lossy && hitReq:
			want = 0
		case f.Kind == ft.Duplicate && hitReq:
			// The copy runs if the first had finished, and is refused if
			// it was still running; it may also run after this check.
			want = max(1, min(runs, 2))
		}
		if runs != want {
			t.Errorf("call %d from %s (%s): its handler ran %d times, want %d", tok, rec.from, errClass(rec.err), runs, want)
		}
	}
	for tok := range w.notesSent {
		got, want := w.noted[tok], wantNotes(f.Kind, h, tok)
		if f.Kind == ft.Drop {
			if got > 1 {
				t.Errorf("notification %d delivered %d times", tok, got)
			}
		} else if got != want {
			t.Errorf("notification %d delivered %d times, want %d", tok, got, want)
		}
	}
	for tok := range w.noted {
		if !w.notesSent[tok] && f.Kind != ft.Drop {
			t.Errorf("notification %d delivered but never sent", tok)
		}
	}
}

// wantNotes is how many times notification tok must be delivered.
func wantNotes(k ft.Kind, h hit, tok int64) int {
	switch {
	case !h.notes[tok]:
		return 1
	case k == ft.Duplicate:
		return 2
	case k == ft.Truncate || k == ft.Corrupt || k == ft.Mutate:
		return 0
	}
	return 1
}

func injections(st ft.Stats) []string {
	var s []string
	for _, inj := range st.Injected {
		s = append(s, fmt.Sprintf("%v: %q", inj.Fault, inj.Msg))
	}
	return s
}

func counts(st ft.Stats) string {
	return fmt.Sprintf("out %+v, in %+v", st.Out, st.In)
}
