package hostile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
)

// UnreadFloodGoroutineBound is how many goroutines a client that floods
// without reading may make the server add, beyond [Target.FloodGoroutineSlack]:
// twice the handler limit (each running handler, or each answer waiting
// for the link, holds one) and the few a connection has.
const UnreadFloodGoroutineBound = 2*MaxConcurrency + 8

// UnreadFloodHeapBound is how much the live heap may grow while a client
// floods without reading: answers held by the handler slots, the
// transport's bounded buffers and the test's own clients, not one buffer
// per call.
const UnreadFloodHeapBound = 8 << 20

// floodFor is how long [UnreadFlood] sends.
const floodFor = 2 * time.Second

// UnreadFlood is the attack of a client that writes calls ("add" of ten
// numbers, then also "echo" of 64 KiB, so that the answers fill the
// kernel's buffers, which on loopback take tens of megabytes),
// notifications and batches of calls as fast as the server takes them and
// never reads an answer (beyond what its [Conn] reads ahead). The
// server must push back: its goroutines and live heap stay within
// [UnreadFloodGoroutineBound] and [UnreadFloodHeapBound] while the flood
// goes on, another client of the same server keeps getting its answers
// meanwhile, and once the flooding client has gone, the server is back to
// what it had before.
func UnreadFlood(t *testing.T, tg Target) {
	tg = tg.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 3*tg.CaseTimeout)
	defer cancel()
	tg.Service.Release() // "block" is not used: every handler returns at once

	other, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer other.Close()
	if err := sentinel(ctx, tg, other, "before"); err != nil {
		t.Fatalf("before the flood: %v", err)
	}
	heap0, g0 := LiveHeap(), runtime.NumGoroutine()

	flooder, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	msgs, err := unreadFloodMessages(tg.Codec)
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	stop := make(chan struct{})
	flooding := make(chan error, 1)
	half := time.Now().Add(floodFor / 2)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				flooding <- nil
				return
			default:
			}
			// Small calls alone first, as the attack that found the bug
			// sent; then big answers, notifications and batches too.
			m := msgs[1]
			if time.Now().After(half) {
				m = msgs[i%len(msgs)]
			}
			if err := flooder.Send(ctx, m); err != nil {
				flooding <- err
				return
			}
			sent.Add(1)
		}
	}()

	// While it floods: sample the server's goroutines and heap, and make
	// calls on the other connection, each of which must be answered.
	maxG, maxHeap := 0, uint64(0)
	answered := 0
	end := time.Now().Add(floodFor)
	for i := 0; time.Now().Before(end); i++ {
		if g := runtime.NumGoroutine(); g > maxG {
			maxG = g
		}
		if i%4 == 0 {
			if h := LiveHeap(); h > maxHeap {
				maxHeap = h
			}
		}
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		err := sentinel(cctx, tg, other, fmt.Sprintf("during-%d", i))
		ccancel()
		if err != nil {
			t.Fatalf("another client's call %d during the flood: %v", i, err)
		}
		answered++
	}
	close(stop)
	_ = flooder.Close() // unblocks a send stuck on the full link
	if err := <-flooding; err != nil && !errors.Is(err, ErrConnClosed) && ctx.Err() != nil {
		t.Fatalf("flooding: %v", err)
	}
	t.Logf("flood: %d messages sent in %v without reading; server at most %+d goroutines, %+d KiB live heap; the other client made %d calls meanwhile",
		sent.Load(), floodFor, maxG-g0, (int64(maxHeap)-int64(heap0))>>10, answered)
	if extra := maxG - g0; extra > UnreadFloodGoroutineBound+tg.FloodGoroutineSlack {
		t.Errorf("%d more goroutines while a client flooded without reading (bound %d)\n%s",
			extra, UnreadFloodGoroutineBound+tg.FloodGoroutineSlack, goroutines())
	}
	if maxHeap > heap0 && maxHeap-heap0 > UnreadFloodHeapBound {
		t.Errorf("live heap grew by %d KiB while a client flooded without reading (bound %d KiB)",
			(maxHeap-heap0)>>10, UnreadFloodHeapBound>>10)
	}

	// Once the flooder has gone, the server is back where it was.
	settle := time.Now().Add(tg.CaseTimeout)
	for {
		g, h := runtime.NumGoroutine(), LiveHeap()
		if g <= g0+2 && (h <= heap0 || h-heap0 < 1<<20) {
			break
		}
		if time.Now().After(settle) {
			t.Fatalf("after the flooder left: %+d goroutines, %+d KiB live heap\n%s", g-g0, (int64(h)-int64(heap0))>>10, goroutines())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := sentinel(ctx, tg, other, "after"); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

// unreadFloodMessages returns what the flooder sends, in turn: a call
// whose answer is 64 KiB, a call, a notification and a batch of ten calls
// of "add" with ten numbers.
func unreadFloodMessages(c codec.Codec) ([][]byte, error) {
	ten := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	call, err := request(c, "echo", []string{strings.Repeat("x", 64<<10)}, codec.Int(1))
	if err != nil {
		return nil, err
	}
	add, err := request(c, "add", ten, codec.Int(2))
	if err != nil {
		return nil, err
	}
	note, err := request(c, "add", ten, codec.ID{})
	if err != nil {
		return nil, err
	}
	items := make([][]byte, 10)
	for i := range items {
		if items[i], err = request(c, "add", ten, codec.Int(int64(100+i))); err != nil {
			return nil, err
		}
	}
	return [][]byte{call, add, note, c.AppendBatch(nil, items)}, nil
}
