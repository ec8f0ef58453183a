package rpc

import (
	"context"
	"errors"
	"sync"
	"time"
)

// cancelSendTimeout bounds the best-effort $/cancelRequest send.
const cancelSendTimeout = 5 * time.Second

// BatchItem is one call or notification of a [Peer.Batch].
type BatchItem struct {
	Method string
	Params any
	// Result is where the call's result is decoded (nil discards it).
	Result any
	// Notify makes the item a notification.
	Notify bool
	// Err is set by Batch: the item's own error, if any.
	Err error
}

// Batch sends items as one JSON-RPC 2.0 batch and waits for every answer.
// Each item passes through the outbound interceptors on its own; an item an
// interceptor refuses is left out of the batch with that error. Per-item
// outcomes are in each item's Err; Batch returns the first of them, or nil.
func (p *Peer) Batch(ctx context.Context, items []BatchItem) error {
	if len(items) == 0 {
		return nil
	}
	b := &outBatch{want: len(items), ready: make(chan struct{}), sent: make(chan struct{})}
	var wg sync.WaitGroup
	for i := range items {
		wg.Add(1)
		go func(it *BatchItem) {
			defer wg.Done()
			it.Err = p.invoke(ctx, Invocation{Method: it.Method, Params: it.Params, Result: it.Result, Notify: it.Notify, batch: b})
			b.leave()
		}(&items[i])
	}
	// Every item has now either reached the transmitter (and is waiting
	// for the send) or has finished early; send what was gathered.
	<-b.ready
	b.sendErr = b.flush(ctx, p)
	close(b.sent)
	wg.Wait()
	for _, it := range items {
		if it.Err != nil {
			return it.Err
		}
	}
	return nil
}

// outBatch gathers the encoded items of one outbound batch.
type outBatch struct {
	mu      sync.Mutex
	want    int      // items not yet enqueued or finished
	msgs    [][]byte // encoded items
	ready   chan struct{}
	sent    chan struct{}
	sendErr error
}

// enqueue adds one encoded item and waits until the batch has been sent.
func (b *outBatch) enqueue(ctx context.Context, msg []byte) error {
	b.mu.Lock()
	b.msgs = append(b.msgs, append([]byte(nil), msg...))
	b.arrive()
	b.mu.Unlock()
	<-b.sent
	return b.sendErr
}

// leave marks an item finished. An item that enqueued was counted then
// (and finishes only after the send); one that never did (an interceptor
// refused it, say) counts as arriving now.
func (b *outBatch) leave() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.sent:
	default:
		b.arrive()
	}
}

// arrive counts one item in; b.mu is held.
func (b *outBatch) arrive() {
	b.want--
	if b.want == 0 {
		close(b.ready)
	}
}

// flush sends the gathered items as one message.
func (b *outBatch) flush(ctx context.Context, p *Peer) error {
	if len(b.msgs) == 0 {
		return errors.New("rpc: batch: no item was sent")
	}
	buf := getBuffer()
	defer putBuffer(buf)
	buf.b = p.codec.AppendBatch(buf.b[:0], b.msgs)
	return p.send(ctx, buf.b)
}
