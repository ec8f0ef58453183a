package faulttransport

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// inbound is what the inner transport delivers to: it applies the plan's
// inbound faults and forwards to the peer.
type inbound struct{ t *Transport }

var _ rpc.Inbound = inbound{}

func (w inbound) MaxMessageSize() int  { return w.t.peer.MaxMessageSize() }
func (w inbound) OnMessage(msg []byte) { w.t.receive(msg) }
func (w inbound) OnClose(err error)    { w.t.closed(err) }

// receive applies the inbound plan to one message. It runs on the inner
// transport's delivery goroutine, so a delay or a stall here holds up the
// messages behind it, as on a real link. msg is ours to modify.
func (t *Transport) receive(msg []byte) {
	f, hit := t.arrive(Inbound, msg)
	if t.waitStalled(context.Background(), Inbound) != nil || !t.pause(t.recvDelay) {
		return // the link is ending: deliver nothing more
	}
	if !hit {
		t.deliver(msg)
		return
	}
	switch f.Kind {
	case Drop:
		t.Drop()
	case Delay:
		if t.pause(f.Delay) {
			t.deliver(msg)
		}
	case Truncate:
		t.deliver(truncate(msg, f.Keep))
	case Corrupt:
		t.deliver(corrupt(msg, f.Offset))
	case Mutate:
		t.deliver(f.Mutate(msg))
	case Duplicate:
		dup := clone(msg)
		t.deliver(msg)
		t.deliver(dup)
	case Reorder:
		t.hold(msg)
	default:
		t.deliver(msg)
	}
}

// pause waits for d; it reports false if the link ended first.
func (t *Transport) pause(d time.Duration) bool {
	return t.sleep(context.Background(), d) == nil
}

// deliver hands msg to the peer, then the message a Reorder held back, if
// any.
func (t *Transport) deliver(msg []byte) {
	t.dmu.Lock()
	defer t.dmu.Unlock()
	t.deliverLocked(msg)
	if held := t.heldIn; held != nil {
		t.heldIn = nil
		t.heldTimer.Stop()
		t.deliverLocked(held)
	}
}

func (t *Transport) deliverLocked(msg []byte) {
	if t.inEnded {
		return
	}
	n := len(msg)
	t.peer.OnMessage(msg)
	t.mu.Lock()
	t.stats.In.Passed++
	t.stats.In.Bytes += int64(n)
	t.mu.Unlock()
}

// hold keeps msg back until the next message has been delivered, or the
// reorder window has passed.
func (t *Transport) hold(msg []byte) {
	t.dmu.Lock()
	defer t.dmu.Unlock()
	if prev := t.heldIn; prev != nil {
		t.heldTimer.Stop()
		t.deliverLocked(prev) // an earlier Reorder goes first
	}
	t.heldIn = msg
	t.heldTimer = time.AfterFunc(t.window, t.flushHeld)
}

// flushHeld delivers a held message that no other message came to pass.
func (t *Transport) flushHeld() {
	t.dmu.Lock()
	defer t.dmu.Unlock()
	if held := t.heldIn; held != nil {
		t.heldIn = nil
		t.deliverLocked(held)
	}
}

// closed forwards the end of the link to the peer, after the last
// delivery, with ErrDropped as the cause if the link was dropped here. A
// message still held back by a Reorder is lost with the link.
func (t *Transport) closed(err error) {
	t.dmu.Lock()
	t.inEnded = true
	t.heldIn = nil
	if t.heldTimer != nil {
		t.heldTimer.Stop()
	}
	t.dmu.Unlock()
	t.end()
	if t.droppedErr() != nil {
		err = fmt.Errorf("faulttransport: %w", ErrDropped)
	}
	t.peer.OnClose(err)
}
