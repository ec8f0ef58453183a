package faulttransport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	ft "github.com/parleyrpc/parley/internal/faulttransport"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

// startCall runs p.Call of method with a fresh token in the background.
func startCall(ctx context.Context, w *world, p *rpc.Peer, method string) (int64, <-chan error) {
	tok := tokens.Add(1)
	ch := make(chan error, 1)
	go func() {
		var got int64
		err := p.Call(ctx, method, []int64{tok}, &got)
		if err == nil && got != answerOf(tok) {
			err = errors.New("wrong result")
		}
		ch <- err
	}()
	return tok, ch
}

// result waits for a call started by startCall.
func result(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("a call never returned")
		return nil
	}
}

// handlersDone waits until no call handler of any peer is running or
// answering: the peers' serve goroutines have all returned.
func handlersDone(t *testing.T) {
	t.Helper()
	waitUntil(t, "the handlers to finish", func() bool {
		for _, g := range leakcheck.Stray() {
			if strings.Contains(g, "rpc.(*Peer).serve") {
				return false
			}
		}
		return true
	})
}

// TestDropWithCallsPending: with many calls in flight both ways, all held
// in handlers, the link drops. Every call ends with ErrConnectionLost,
// none hangs; the handlers, released afterwards, finish, and their answers
// are discarded: nothing more is sent.
func TestDropWithCallsPending(t *testing.T) {
	const each = 100
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			w := newWorld(t, c, ft.Plan{})
			var calls []<-chan error
			for range each {
				for _, p := range []*rpc.Peer{w.a, w.b} {
					_, ch := startCall(context.Background(), w, p, "block")
					calls = append(calls, ch)
				}
			}
			for range 2 * each {
				<-w.started
			}
			before := w.ft.Stats()
			w.ft.Drop()
			for _, ch := range calls {
				if err := result(t, ch); !errors.Is(err, rpc.ErrConnectionLost) {
					t.Fatalf("pending call: %v, want connection lost", err)
				}
			}
			if err := w.a.Wait(); !errors.Is(err, ft.ErrDropped) {
				t.Errorf("peer A: %v", err)
			}
			if err := w.b.Wait(); !errors.Is(err, rpc.ErrConnectionLost) {
				t.Errorf("peer B: %v", err)
			}
			close(w.gate)
			for range 2 * each {
				<-w.finished
			}
			handlersDone(t)
			if after := w.ft.Stats(); after.Out.Messages != before.Out.Messages {
				t.Errorf("%d answers were sent on a dropped link", after.Out.Messages-before.Out.Messages)
			}
		})
	}
}

// TestHandlerRunningWhenLinkDrops: a handler still running when the link
// drops finishes later; its answer is dropped cleanly (nothing sent, no
// panic), on the side that dropped and on the other.
func TestHandlerRunningWhenLinkDrops(t *testing.T) {
	for _, c := range codecs {
		for _, side := range []string{"faulty side", "other side"} {
			t.Run(c.Name()+"/"+side, func(t *testing.T) {
				w := newWorld(t, c, ft.Plan{})
				caller := w.b // calls A, whose transport is the faulty one
				if side == "other side" {
					caller = w.a
				}
				_, call := startCall(context.Background(), w, caller, "block")
				<-w.started
				w.ft.Drop()
				if err := result(t, call); !errors.Is(err, rpc.ErrConnectionLost) {
					t.Fatalf("call: %v", err)
				}
				wait(t, "peer A to end", w.a.Done())
				wait(t, "peer B to end", w.b.Done())
				// Once a peer has ended, it does not even try to send.
				sent := w.ft.Stats().Out.Messages
				close(w.gate)
				<-w.finished
				handlersDone(t)
				if n := w.ft.Stats().Out.Messages; n != sent {
					t.Errorf("the late answer was sent (%d messages after the drop)", n-sent)
				}
			})
		}
	}
}

// TestWriteStall: while a side's writes are stalled, calls with a
// deadline fail with context.DeadlineExceeded, both the calls it makes
// (their requests cannot go out) and the calls it serves (their answers
// cannot); after Unstall the link works again and the stale answers are
// dropped; Close during a stall returns promptly and ends every call.
func TestWriteStall(t *testing.T) {
	for _, c := range codecs {
		for _, dir := range []ft.Direction{ft.Outbound, ft.Inbound} {
			t.Run(c.Name()+"/"+dir.String(), func(t *testing.T) {
				t.Parallel() // each case waits out its deadlines
				w := newWorld(t, c, ft.Plan{Faults: []ft.Fault{{Kind: ft.Stall, Dir: dir, At: 1}}})
				for _, p := range []*rpc.Peer{w.a, w.b} {
					for range 5 {
						ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
						err := w.call(ctx, p)
						cancel()
						if !errors.Is(err, context.DeadlineExceeded) {
							t.Fatalf("call during the stall: %v", err)
						}
					}
				}
				w.ft.Unstall(dir)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for _, p := range []*rpc.Peer{w.a, w.b} {
					if err := w.call(ctx, p); err != nil {
						t.Fatalf("call after the stall: %v", err)
					}
				}

				// Stall again, with calls waiting, and close the stalled side.
				w.ft.Stall(dir)
				var calls []<-chan error
				for _, p := range []*rpc.Peer{w.a, w.b} {
					for range 10 {
						_, ch := startCall(context.Background(), w, p, "f")
						calls = append(calls, ch)
					}
				}
				closed := make(chan struct{})
				go func() { _ = w.a.Close(); close(closed) }()
				wait(t, "Close during a stall", closed)
				for i, ch := range calls {
					// A's calls: ErrClosed, or ErrConnectionLost for one that
					// Close interrupted in the transport's Send (see the
					// report); B's calls: ErrConnectionLost.
					err := result(t, ch)
					if i < 10 && !errors.Is(err, rpc.ErrClosed) && !errors.Is(err, rpc.ErrConnectionLost) ||
						i >= 10 && !errors.Is(err, rpc.ErrConnectionLost) {
						t.Errorf("call %d waiting at Close: %v", i, err)
					}
				}
			})
		}
	}
}

// TestTruncatedBatch: a batch truncated on its way (the request batch, or
// the batch of answers) is answered -32700 with a null id by the side
// that received it, the link stays up, and the calls of that batch are
// the only ones lost; the next batch works.
func TestTruncatedBatch(t *testing.T) {
	for _, c := range codecs {
		for _, dir := range []ft.Direction{ft.Outbound, ft.Inbound} {
			t.Run(c.Name()+"/"+dir.String(), func(t *testing.T) {
				w := newWorld(t, c, ft.Plan{Faults: []ft.Fault{{Kind: ft.Truncate, Dir: dir, At: 1}}})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				batch := func(ctx context.Context) ([]rpc.BatchItem, []int64, <-chan struct{}) {
					toks := []int64{tokens.Add(1), tokens.Add(1), tokens.Add(1), tokens.Add(1)}
					items := make([]rpc.BatchItem, len(toks))
					results := make([]int64, len(toks))
					for i, tok := range toks {
						items[i] = rpc.BatchItem{Method: "f", Params: []int64{tok}, Result: &results[i]}
					}
					items[2] = rpc.BatchItem{Method: "note", Params: []int64{toks[2]}, Notify: true}
					done := make(chan struct{})
					go func() {
						defer close(done)
						_ = w.a.Batch(ctx, items)
						for i, tok := range toks {
							if items[i].Err == nil && !items[i].Notify && results[i] != answerOf(tok) {
								items[i].Err = errors.New("wrong result")
							}
						}
					}()
					return items, toks, done
				}
				items, toks, done := batch(ctx)
				// The side that got the garbage answers -32700; the sender
				// logs it. Then the calls of the batch can only be given up.
				sender := w.logA
				if dir == ft.Inbound {
					sender = w.logB
				}
				waitUntil(t, "the -32700 answer", func() bool { return sender.count(rpc.CodeParseError) > 0 })
				cancel()
				wait(t, "the batch", done)
				for i, it := range items {
					switch {
					case it.Notify && it.Err != nil:
						t.Errorf("notification: %v", it.Err)
					case !it.Notify && !errors.Is(it.Err, context.Canceled):
						t.Errorf("item %d: %v, want it lost (cancelled)", i, it.Err)
					}
				}
				if dir == ft.Inbound {
					// The notification runs on its own queue, perhaps
					// after the batch's calls have been given up.
					waitUntil(t, "the batch's notification", func() bool {
						w.mu.Lock()
						defer w.mu.Unlock()
						return w.noted[toks[2]] > 0
					})
				}
				w.mu.Lock()
				for i, tok := range toks {
					want := 0 // the request batch never arrived whole
					if dir == ft.Inbound {
						want = 1 // it did; the batch of answers was lost
					}
					if got := w.invoked[tok] + w.noted[tok]; got != want {
						t.Errorf("item %d ran %d times, want %d", i, got, want)
					}
				}
				w.mu.Unlock()

				ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel2()
				items, _, done = batch(ctx2)
				wait(t, "the second batch", done)
				for i, it := range items {
					if it.Err != nil {
						t.Errorf("second batch, item %d: %v", i, it.Err)
					}
				}
			})
		}
	}
}

// TestDuplicatedAnswer: an answer delivered twice ends its call once; the
// copy is ignored and never reaches a later call. A request delivered
// twice ends its call once too: with its result, or refused -32600 if the
// copy arrived while the first was still being served (the core refuses a
// second call under an id in progress); never with another call's result.
func TestDuplicatedAnswer(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			// A's inbound #1 is the answer to its first call; B's inbound
			// (A's outbound) #2 is A's second request.
			w := newWorld(t, c, ft.Plan{Faults: []ft.Fault{
				{Kind: ft.Duplicate, Dir: ft.Inbound, At: 1},
				{Kind: ft.Duplicate, Dir: ft.Outbound, At: 2},
			}})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for range 50 {
				if err := w.call(ctx, w.a); err != nil && !errors.Is(err, rpc.ErrInvalidRequest) {
					t.Fatal(err)
				}
			}
			// 50 answers come in, and a second one to the duplicated
			// request; each fault passes one message twice. The last
			// answers may still be on their way when the calls return.
			waitUntil(t, "the duplicated request's second answer", func() bool {
				st := w.ft.Stats()
				return st.In.Messages == 51 && st.In.Passed == 52 && st.Out.Passed == 51 && len(st.Injected) == 2
			})
			w.mu.Lock()
			defer w.mu.Unlock()
			odd := 0 // calls that ran twice or were refused: the duplicated one
			for tok, rec := range w.calls {
				refused := errors.Is(rec.err, rpc.ErrInvalidRequest) && rpc.IsRemote(rec.err)
				if rec.returns != 1 || (rec.err != nil && !refused) || (rec.err == nil && rec.result != answerOf(tok)) {
					t.Errorf("call %d: %d returns, %d, %v", tok, rec.returns, rec.result, rec.err)
				}
				switch runs := w.invoked[tok]; {
				case runs == 1 && !refused:
				case runs == 1 || runs == 2:
					odd++
				default:
					t.Errorf("call %d ran %d times", tok, runs)
				}
			}
			if odd > 1 {
				t.Errorf("%d calls ran twice or were refused; only one request was duplicated", odd)
			}
		})
	}
}

// TestInvalidAnswerNotMisdelivered: an answer that arrives well-formed but
// invalid (here: jsonrpc "9.9") must not produce an error "answer" that
// the other end takes for the answer to a different call of its own.
//
// Call ids are per caller: A's call 1 and B's call 1 are different calls.
// B calls A (B's id 1); A's answer is broken on the way. If B answers the
// broken answer with an error carrying id 1, A delivers that error to A's
// own pending call 1, a call that nothing went wrong with.
func TestInvalidAnswerNotMisdelivered(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			// A's outbound #1 is its request to B; #2 its answer to B.
			w := newWorld(t, c, ft.Plan{Faults: []ft.Fault{{Kind: ft.Mutate, Dir: ft.Outbound, At: 2, Mutate: breakVersion}}})
			_, aCall := startCall(context.Background(), w, w.a, "block") // A's id 1, held in B's handler
			<-w.started
			ctx, cancel := context.WithCancel(context.Background())
			_, bCall := startCall(ctx, w, w.b, "f") // B's id 1; its answer is broken
			// Wait until whatever B sent in reply to the broken answer has
			// reached A: A's inbound #1 was B's request, #2 that reply.
			waitUntil(t, "B to react to the broken answer", func() bool {
				return w.ft.Stats().In.Passed >= 2 || w.logA.count(rpc.CodeInvalidRequest) > 0
			})
			select {
			case err := <-aCall:
				t.Errorf("A's call 1 was answered by B's complaint about A's answer to B's call 1: %v", err)
			default:
				close(w.gate)
				if err := result(t, aCall); err != nil {
					t.Errorf("A's call: %v", err)
				}
			}
			cancel()
			if err := result(t, bCall); err == nil {
				t.Errorf("B's call succeeded with a broken answer")
			}
		})
	}
}
