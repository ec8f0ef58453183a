package hostile

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// FloodHeapBound is how much the live heap may grow while a flood is under
// way: a flood that the peer buffered instead of pushing back on would
// take far more (2,000 waiting calls as goroutines, 100,000 cancellations
// remembered).
const FloodHeapBound = 32 << 20

// floodGoroutineBound is how many goroutines a flood may add, beyond the
// handlers running and [Target.FloodGoroutineSlack]: the connection's own
// and a few the test runs.
const floodGoroutineBound = 64

func (tg Target) goroutineBound() int { return floodGoroutineBound + tg.FloodGoroutineSlack }

// goroutines returns the goroutine profile, stacks counted, for a failure
// report.
func goroutines() string {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	s := b.String()
	if len(s) > 8000 {
		s = s[:8000] + "\n..."
	}
	return s
}

// Flood sends [Target.CallFlood] calls to "block", a handler that waits,
// far beyond [MaxConcurrency], on one connection. While the handlers are
// held, at most MaxConcurrency run and the goroutines and live heap stay
// bounded (the peer stops reading: backpressure, not a pile of waiting
// calls); once they are let go, every call is answered exactly once, and
// the connection answers a real call.
func Flood(t *testing.T, tg Target) {
	tg = tg.withDefaults()
	svc := tg.Service
	ctx, cancel := context.WithTimeout(context.Background(), 3*tg.CaseTimeout)
	defer cancel()
	conn, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	svc.Hold()
	defer svc.Release() // never leave a handler waiting
	svc.ResetPeak()

	n := tg.CallFlood
	msgs := make([][]byte, n)
	for i := range msgs {
		if msgs[i], err = request(tg.Codec, "block", nil, codec.Int(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	heap0, g0 := LiveHeap(), runtime.NumGoroutine()

	// Send from a goroutine: once every handler slot is busy the server
	// stops reading, and the sends wait on the transport.
	sent := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := conn.Send(ctx, m); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()

	// Watch while the handlers are held: until every slot is busy, then
	// for a moment more, in which a peer that kept reading would pile up
	// goroutines. The watch can only miss a pile-up, never invent one.
	maxG := 0
	busy := 0
	for busy < 50 {
		if g := runtime.NumGoroutine(); g > maxG {
			maxG = g
		}
		if svc.Running() == MaxConcurrency {
			busy++
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d handlers running when the time ran out", svc.Running(), MaxConcurrency)
		}
		time.Sleep(2 * time.Millisecond)
	}
	heap1 := LiveHeap()
	if peak := svc.Peak(); peak > MaxConcurrency {
		t.Errorf("%d handlers ran at once, limit %d", peak, MaxConcurrency)
	}
	if extra := maxG - g0; extra > MaxConcurrency+tg.goroutineBound() {
		t.Errorf("%d more goroutines while %d calls waited: the peer did not push back", extra, n)
	}
	if heap1 > heap0 && heap1-heap0 > FloodHeapBound {
		t.Errorf("live heap grew by %d MiB while %d calls waited", (heap1-heap0)>>20, n)
	}
	t.Logf("%d calls held: %d handlers running, %+d goroutines, %+d KiB live heap",
		n, svc.Running(), maxG-g0, (int64(heap1)-int64(heap0))>>10)

	svc.Release()
	seen := make([]bool, n)
	for range n {
		got, err := conn.Recv(ctx)
		if err != nil {
			t.Fatalf("waiting for the answers: %v", err)
		}
		msgs, batch, err := tg.Codec.Decode(nil, got)
		if err != nil || batch || len(msgs) != 1 {
			t.Fatalf("answer %s: %v", short(got), err)
		}
		m := &msgs[0]
		i, ok := m.ID.Int()
		if !ok || i < 0 || i >= int64(n) || seen[i] {
			t.Fatalf("answer with id %v: not one of the calls, or twice", m.ID)
		}
		seen[i] = true
		if err := checkOne(tg.Codec, m, resultOf(m.ID, "released")); err != nil {
			t.Fatalf("answer %s: %v", short(got), err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("sending the calls: %v", err)
	}
	if peak := svc.Peak(); peak != MaxConcurrency {
		t.Errorf("at most %d handlers ran at once, want exactly %d", peak, MaxConcurrency)
	}
	if err := sentinel(ctx, tg, conn, "call-flood"); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

// CancelFlood sends [Target.CancelFlood] $/cancelRequest notifications
// for ids that name no call (integers, strings, fractions, 2^64-1) while a
// real call waits. None is answered, goroutines and the live heap stay
// bounded, and then a cancellation of the real call still cancels it (its
// answer, -32800, is the first message to come back) and the connection
// answers a real call.
func CancelFlood(t *testing.T, tg Target) {
	tg = tg.withDefaults()
	svc := tg.Service
	ctx, cancel := context.WithTimeout(context.Background(), 4*tg.CaseTimeout)
	defer cancel()
	conn, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	svc.Hold()
	defer svc.Release()

	victim := codec.String("victim")
	msg, err := request(tg.Codec, "block", nil, victim)
	if err != nil {
		t.Fatal(err)
	}
	base := svc.Running()
	if err := conn.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	for svc.Running() == base {
		if ctx.Err() != nil {
			t.Fatal("the call to block did not start")
		}
		time.Sleep(time.Millisecond)
	}

	// Read from the start: a peer that answered the flood would otherwise
	// block on a connection nobody reads, and the flood with it.
	type result struct {
		before []string // messages before the victim's answer
		answer []byte
		err    error
	}
	read := make(chan result, 1)
	go func() {
		var r result
		for {
			got, err := conn.Recv(ctx)
			if err != nil {
				r.err = err
				break
			}
			if ms, _, err := tg.Codec.Decode(nil, got); err == nil && len(ms) == 1 && ms[0].ID == victim {
				r.answer = got
				break
			}
			if len(r.before) < 5 {
				r.before = append(r.before, short(got))
			}
		}
		read <- r
	}()

	n := tg.CancelFlood
	heap0, g0 := LiveHeap(), runtime.NumGoroutine()
	maxHeap, maxG := heap0, g0
	var stacks string // the goroutines at the worst sample, if too many
	start := time.Now()
	for i := range n {
		m, err := cancelRequest(tg.Codec, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Send(ctx, m); err != nil {
			t.Fatalf("cancellation %d: %v", i, err)
		}
		if (i+1)%(n/8+1) == 0 {
			maxHeap = max(maxHeap, LiveHeap())
			if g := runtime.NumGoroutine(); g > maxG {
				maxG = g
				if g-g0 > tg.goroutineBound() {
					stacks = goroutines()
				}
			}
		}
	}
	elapsed := time.Since(start)

	msg, err = cancelMessage(tg.Codec, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	r := <-read
	if len(r.before) > 0 {
		t.Errorf("answers to the flood: %v", r.before)
	}
	if r.err != nil {
		t.Fatalf("waiting for the cancelled call's answer: %v", r.err)
	}
	if err := check(tg.Codec, r.answer, errorOf(rpc.CodeRequestCancelled, victim)); err != nil {
		t.Errorf("the cancelled call: %v: %s", err, short(r.answer))
	}
	t.Logf("%d cancellations in %v: %+d goroutines, %+d KiB live heap at most",
		n, elapsed.Round(time.Millisecond), maxG-g0, (int64(maxHeap)-int64(heap0))>>10)
	if maxHeap-heap0 > FloodHeapBound {
		t.Errorf("live heap grew by %d MiB during the flood", (maxHeap-heap0)>>20)
	}
	if maxG-g0 > tg.goroutineBound() {
		t.Errorf("%d more goroutines during the flood:\n%s", maxG-g0, stacks)
	}
	if err := sentinel(ctx, tg, conn, "cancel-flood"); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

// cancelRequest is the i-th cancellation of the flood, for an id no call
// has: an integer, a string, a fraction or 2^64-1. The bytes are written
// by hand: the flood measures the server, not the client's encoder.
func cancelRequest(c codec.Codec, i int) ([]byte, error) {
	if c.Name() == "cbor" {
		var id []byte
		switch i % 4 {
		case 0:
			id = cint(int64(1_000_000 + i))
		case 1:
			id = ctext("ghost-" + strconv.Itoa(i))
		case 2:
			id = cfloat64(float64(i) + 0.5)
		default:
			id = chead(cUint, math.MaxUint64)
		}
		return cmsg(ctext("$/cancelRequest"), cmap(ctext("id"), id), nil), nil
	}
	if c.Name() != "json" {
		return nil, fmt.Errorf("hostile: no cancellations for codec %s", c.Name())
	}
	b := make([]byte, 0, 80)
	b = append(b, `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":`...)
	switch i % 4 {
	case 0:
		b = strconv.AppendInt(b, int64(1_000_000+i), 10)
	case 1:
		b = append(b, `"ghost-`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '"')
	case 2:
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ".5"...)
	default:
		b = strconv.AppendUint(b, math.MaxUint64, 10)
	}
	return append(b, "}}"...), nil
}

// cancelMessage encodes the notification $/cancelRequest {"id": id}.
func cancelMessage(c codec.Codec, id any) ([]byte, error) {
	p, err := c.Marshal(map[string]any{"id": id})
	if err != nil {
		return nil, err
	}
	return c.AppendMessage(nil, &codec.Message{Method: "$/cancelRequest", Params: p})
}

// LiveHeap returns the bytes of live heap objects, after a collection.
func LiveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
