package faulttransport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// ErrDropped is the cause a [Transport] reports to its peer when the link
// was dropped by a Drop fault or [Transport.Drop], and what Send returns
// after that (wrapped). It deliberately does not wrap net.ErrClosed: to the
// peer it is a link failure, not a close of its own.
var ErrDropped = errors.New("faulttransport: link dropped by an injected fault")

// Transport wraps an [rpc.Transport] and injects the faults of its [Plan].
// Create one with [New] and give it to [rpc.NewPeer] in place of the inner
// transport. Its methods are safe for concurrent use.
type Transport struct {
	inner     rpc.Transport
	outFaults map[int]Fault
	inFaults  map[int]Fault
	sendDelay time.Duration
	recvDelay time.Duration
	window    time.Duration

	// ending is closed when the link starts ending (Close, Drop, or the
	// inner transport's OnClose): it releases stalls and delays. ctx ends
	// with it; it bounds the sends of held messages.
	ending  chan struct{}
	endOnce sync.Once
	ctx     context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	closing bool             // Close or Drop was called
	dropped bool             // ... and Drop came first
	stalled [2]chan struct{} // per Direction; non-nil while stalled
	heldOut []byte           // an outbound Reorder's message, held back
	// heldOutTimer sends heldOut if no other message comes.
	heldOutTimer *time.Timer
	stats        Stats

	// The delivery side; dmu serialises deliveries to the peer (the inner
	// transport's goroutine and a Reorder timer may both deliver).
	dmu       sync.Mutex
	peer      rpc.Inbound
	heldIn    []byte      // an inbound Reorder's message
	heldTimer *time.Timer // delivers heldIn if no other message comes
	inEnded   bool        // OnClose was forwarded: deliver nothing more
}

var _ rpc.Transport = (*Transport)(nil)

// New wraps inner with the faults of plan. It reports a plan that makes no
// sense (a fault at message 0, two faults at one message, a Delay fault
// without a delay, ...) as an error.
func New(inner rpc.Transport, plan Plan) (*Transport, error) {
	if inner == nil {
		return nil, errors.New("faulttransport: nil inner transport")
	}
	out, in, err := plan.check()
	if err != nil {
		return nil, err
	}
	window := plan.ReorderWindow
	if window == 0 {
		window = DefaultReorderWindow
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Transport{
		ctx:       ctx,
		cancel:    cancel,
		inner:     inner,
		outFaults: out,
		inFaults:  in,
		sendDelay: plan.SendDelay,
		recvDelay: plan.RecvDelay,
		window:    window,
		ending:    make(chan struct{}),
	}, nil
}

// Start starts the inner transport, delivering through the fault plan.
func (t *Transport) Start(in rpc.Inbound) {
	t.peer = in
	t.inner.Start(inbound{t})
}

// Send passes msg to the inner transport, through the fault plan.
func (t *Transport) Send(ctx context.Context, msg []byte) error {
	f, hit := t.arrive(Outbound, msg)
	if err := t.waitStalled(ctx, Outbound); err != nil {
		return err
	}
	if err := t.sleep(ctx, t.sendDelay); err != nil {
		return err
	}
	if !hit {
		return t.pass(ctx, msg)
	}
	switch f.Kind {
	case Drop:
		t.Drop()
		return fmt.Errorf("faulttransport: send: %w", ErrDropped)
	case Delay:
		if err := t.sleep(ctx, f.Delay); err != nil {
			return err
		}
	case Truncate:
		msg = truncate(msg, f.Keep)
	case Corrupt:
		msg = corrupt(msg, f.Offset)
	case Mutate:
		msg = f.Mutate(clone(msg))
	case Duplicate:
		if err := t.pass(ctx, msg); err != nil {
			return err
		}
	case Reorder:
		t.holdOut(msg)
		return nil
	}
	return t.pass(ctx, msg)
}

// pass sends msg on the inner transport and counts it; then it sends the
// message an outbound Reorder holds back, if any.
func (t *Transport) pass(ctx context.Context, msg []byte) error {
	if err := t.passOne(ctx, msg); err != nil {
		return err
	}
	t.mu.Lock()
	held := t.takeHeldLocked()
	t.mu.Unlock()
	if held != nil {
		_ = t.passOne(ctx, held) // a failure means the link is going anyway
	}
	return nil
}

func (t *Transport) passOne(ctx context.Context, msg []byte) error {
	if err := t.droppedErr(); err != nil {
		return err
	}
	if err := t.inner.Send(ctx, msg); err != nil {
		if derr := t.droppedErr(); derr != nil {
			return fmt.Errorf("%w (%w)", derr, err)
		}
		return err
	}
	t.mu.Lock()
	t.stats.Out.Passed++
	t.stats.Out.Bytes += int64(len(msg))
	t.mu.Unlock()
	return nil
}

// holdOut keeps a copy of msg back, as a transport's own buffer would,
// until the next message has passed or the reorder window ends.
func (t *Transport) holdOut(msg []byte) {
	t.mu.Lock()
	prev := t.takeHeldLocked()
	t.heldOut = clone(msg)
	t.heldOutTimer = time.AfterFunc(t.window, t.flushOut)
	t.mu.Unlock()
	if prev != nil {
		_ = t.passOne(t.ctx, prev) // an earlier Reorder goes first
	}
}

// flushOut sends a held message that no other message came to pass.
func (t *Transport) flushOut() {
	t.mu.Lock()
	held := t.takeHeldLocked()
	t.mu.Unlock()
	if held != nil {
		_ = t.passOne(t.ctx, held)
	}
}

// takeHeldLocked takes the message an outbound Reorder holds, if any.
func (t *Transport) takeHeldLocked() []byte {
	held := t.heldOut
	if held != nil {
		t.heldOut = nil
		t.heldOutTimer.Stop()
	}
	return held
}

// Close closes the inner transport and releases anything stalled or
// delayed. It is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closing = true
	t.mu.Unlock()
	t.end()
	return t.inner.Close()
}

// Drop drops the link now, as a Drop fault does: the inner transport is
// closed and the peer is told the link ended with [ErrDropped]. After
// Close, it does nothing more than Close.
func (t *Transport) Drop() {
	t.mu.Lock()
	if !t.closing {
		t.closing, t.dropped = true, true
	}
	t.mu.Unlock()
	t.end()
	_ = t.inner.Close()
}

// Stall stops direction d until [Transport.Unstall]: outbound Sends wait
// (each up to its context's end, or the end of the link); inbound messages
// wait undelivered, so the inner transport stops reading.
func (t *Transport) Stall(d Direction) {
	t.mu.Lock()
	t.stallLocked(d)
	t.mu.Unlock()
}

func (t *Transport) stallLocked(d Direction) {
	if t.stalled[d] == nil {
		t.stalled[d] = make(chan struct{})
	}
}

// Unstall resumes direction d.
func (t *Transport) Unstall(d Direction) {
	t.mu.Lock()
	ch := t.stalled[d]
	t.stalled[d] = nil
	t.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// arrive counts a message in direction d, records the fault aimed at it,
// if any, and starts a Stall fault there, so that every later message
// sees it. A Stall fault is reported as no fault: the message then passes
// as usual once the stall ends.
func (t *Transport) arrive(d Direction, msg []byte) (Fault, bool) {
	faults := t.outFaults
	if d == Inbound {
		faults = t.inFaults
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.counts(d)
	c.Messages++
	f, hit := faults[c.Messages]
	if !hit {
		return Fault{}, false
	}
	t.stats.Injected = append(t.stats.Injected, Injection{Fault: f, Msg: clone(msg)})
	if f.Kind == Stall {
		t.stallLocked(d)
		return Fault{}, false
	}
	return f, true
}

func (t *Transport) counts(d Direction) *Counts {
	if d == Inbound {
		return &t.stats.In
	}
	return &t.stats.Out
}

// waitStalled waits while direction d is stalled.
func (t *Transport) waitStalled(ctx context.Context, d Direction) error {
	t.mu.Lock()
	ch := t.stalled[d]
	t.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.ending:
		return t.endErr()
	}
}

// sleep waits for d, or until ctx or the link ends.
func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.ending:
		return t.endErr()
	}
}

// end marks the link as ending, once.
func (t *Transport) end() {
	t.endOnce.Do(func() {
		close(t.ending)
		t.cancel()
		t.mu.Lock()
		t.takeHeldLocked() // lost with the link
		t.mu.Unlock()
	})
}

// droppedErr is Send's error once the link was dropped, or nil.
func (t *Transport) droppedErr() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped {
		return fmt.Errorf("faulttransport: send: %w", ErrDropped)
	}
	return nil
}

// endErr is the error of a Send cut short by the end of the link.
func (t *Transport) endErr() error {
	if err := t.droppedErr(); err != nil {
		return err
	}
	return fmt.Errorf("faulttransport: send: %w", net.ErrClosed)
}
