package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// stuckLink is a transport whose link takes no data: every Send waits
// until the link is closed or the sender gives up. The test delivers
// inbound messages itself, through In.
type stuckLink struct {
	In      rpc.Inbound
	started chan struct{}
	closed  chan struct{}
	once    sync.Once
	sending atomic.Int32 // Sends in progress
	most    atomic.Int32 // the most at once
}

func newStuckLink() *stuckLink {
	return &stuckLink{started: make(chan struct{}), closed: make(chan struct{})}
}

func (l *stuckLink) Start(in rpc.Inbound) { l.In = in; close(l.started) }

func (l *stuckLink) Send(ctx context.Context, msg []byte) error {
	n := l.sending.Add(1)
	defer l.sending.Add(-1)
	for {
		m := l.most.Load()
		if n <= m || l.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-l.closed:
		return net.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *stuckLink) Close() error {
	l.once.Do(func() {
		close(l.closed)
		go l.In.OnClose(nil)
	})
	return nil
}

// A remote end that sends calls and never reads their answers: the peer
// stops reading once every place (twice the handler limit) holds an
// unwritten answer, instead of starting a goroutine (and holding an
// answer) per call.
func TestUnreadAnswersStopReading(t *testing.T) {
	const limit = 16
	link := newStuckLink()
	routes := router(t, "sum", rpc.Func(add))
	before := runtime.NumGoroutine()
	p, err := rpc.NewPeer(link, rpc.WithHandler(routes), rpc.WithMaxConcurrency(limit))
	if err != nil {
		t.Fatal(err)
	}
	var delivered atomic.Int32
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		for i := range 10_000 {
			link.In.OnMessage(fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"sum","params":[1,2,3]}`, i))
			delivered.Add(1)
		}
	}()
	// Reading must stall with every slot held by an answer that waits.
	deadline := time.Now().Add(10 * time.Second)
	for link.sending.Load() < 2*limit && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if got := link.sending.Load(); got != 2*limit {
		t.Fatalf("%d answers waiting for the link, want %d (twice the limit)", got, 2*limit)
	}
	select {
	case <-flooded:
		t.Fatal("all 10,000 calls were taken although no answer could be written")
	default:
	}
	if d := delivered.Load(); d > 2*limit+1 {
		t.Fatalf("%d calls taken with %d places", d, 2*limit)
	}
	if g := runtime.NumGoroutine() - before; g > 2*limit+4 {
		t.Fatalf("%d goroutines for %d places", g, 2*limit)
	}
	p.Close()
	<-flooded // the reading is freed by the end
	if m := link.most.Load(); m > 2*limit {
		t.Fatalf("%d sends at once, want at most %d", m, 2*limit)
	}
}

// WithSendBytes bounds the bytes handed to a transport and not yet
// written: a second message that would pass the bound waits for the first.
func TestSendBytesBound(t *testing.T) {
	link := newStuckLink()
	p, err := rpc.NewPeer(link, rpc.WithSendBytes(200))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	<-link.started
	params := []string{string(make([]byte, 100))} // about 130 bytes as a notification
	first := make(chan error, 1)
	go func() { first <- p.Notify(context.Background(), "x", params) }()
	for link.sending.Load() != 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := p.Notify(ctx, "x", params); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second message past the bound: %v, want it to wait until its deadline", err)
	}
	if link.most.Load() != 1 {
		t.Fatalf("%d messages in the transport at once, want 1", link.most.Load())
	}
	// A message larger than the whole bound goes when nothing else waits.
	p.Close()
	if err := <-first; err == nil {
		t.Fatal("the first message was sent on a link that took nothing")
	}
	link2 := newStuckLink()
	p2, _ := rpc.NewPeer(link2, rpc.WithSendBytes(64))
	defer p2.Close()
	go func() { _ = p2.Notify(context.Background(), "x", params) }()
	for link2.sending.Load() != 1 {
		runtime.Gosched()
	}
}
