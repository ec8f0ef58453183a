package hub_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

func TestBounds(t *testing.T) {
	h, r := newHub(t, &hub.Options{
		MaxTopicsPerPeer:           5,
		MaxSubscribersPerTopic:     2,
		MaxRegistrationsPerPeer:    2,
		MaxRegistrantsPerProcedure: 2,
		MaxPendingCalls:            2,
	})
	c := connect(t, r, nil, nil)
	for i := range 5 {
		c.must(t, hub.MethodSubscribe, sub(fmt.Sprint("t.", i)))
	}
	if err := c.call(t, hub.MethodSubscribe, sub("t.5"), nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("6th topic: %v", err)
	}
	c.must(t, hub.MethodSubscribe, sub("t.4")) // subscribed already: not one more
	c.must(t, hub.MethodUnsubscribe, sub("t.4"))
	c.must(t, hub.MethodSubscribe, sub("t.5")) // room again

	connect(t, r, nil, nil).must(t, hub.MethodSubscribe, sub("t.0"))
	if err := connect(t, r, nil, nil).call(t, hub.MethodSubscribe, sub("t.0"), nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("3rd subscriber: %v", err)
	}

	c.must(t, hub.MethodRegister, map[string]any{"procedure": "p1"})
	c.must(t, hub.MethodRegister, map[string]any{"procedure": "p2"})
	if err := c.call(t, hub.MethodRegister, map[string]any{"procedure": "p3"}, nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("3rd registration: %v", err)
	}

	b := newBlocker()
	callee(t, r, "shared", b, hub.RoundRobin)
	callee(t, r, "shared", b, hub.RoundRobin)
	if err := connect(t, r, nil, nil).call(t, hub.MethodRegister, map[string]any{"procedure": "shared", "policy": "roundrobin"}, nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("3rd registrant: %v", err)
	}

	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- c.peer.Call(ctx, hub.MethodCall, routed("shared", nil), nil) }()
	}
	wait(t, b.started, "a call")
	wait(t, b.started, "a call")
	if err := c.call(t, hub.MethodCall, routed("shared", nil), nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("3rd pending call: %v", err)
	}
	if err := h.Call(testCtx(t), "shared", nil, nil); !errors.Is(err, hub.ErrLimit) {
		t.Fatalf("3rd pending call from Go: %v", err)
	}
	if p := h.Stats().Pending; p != 2 {
		t.Fatalf("Pending = %d", p)
	}
	cancel()
	wait(t, done, "a call")
	wait(t, done, "a call")
	eventually(t, "the calls end", func() bool { return h.Stats().Pending == 0 })
}

// stuckEnd is the far end of a pipe that stops reading: its first message
// blocks delivery until release is closed.
type stuckEnd struct{ release chan struct{} }

func (s *stuckEnd) OnMessage([]byte)    { <-s.release }
func (s *stuckEnd) OnClose(error)       {}
func (s *stuckEnd) MaxMessageSize() int { return 1 << 20 }

// stuckSubscriber is a subscriber whose client stopped reading.
func stuckSubscriber(t *testing.T, h *hub.Hub, r *rpc.Router, topic string) *rpc.Peer {
	t.Helper()
	a, b := rpc.Pipe()
	sp, err := rpc.NewPeer(a, rpc.WithHandler(r))
	if err != nil {
		t.Fatal(err)
	}
	stuck := &stuckEnd{release: make(chan struct{})}
	b.Start(stuck)
	t.Cleanup(func() { close(stuck.release); sp.Close() })
	if err := h.Subscribe(sp, topic); err != nil {
		t.Fatal(err)
	}
	return sp
}

// A publish storm at a subscriber that stopped reading: the others get
// every event in order, publishers never wait, and the stuck one's queue
// stays bounded (what does not fit is dropped and counted).
func TestSlowSubscriberDoesNotSlowOthers(t *testing.T) {
	const queue, n = 256, 1000
	h, r := newHub(t, &hub.Options{MaxQueuedEvents: queue})
	var fast []*client
	for range 3 {
		c := connect(t, r, nil, nil)
		c.must(t, hub.MethodSubscribe, sub("storm"))
		fast = append(fast, c)
	}
	stuckSubscriber(t, h, r, "storm")
	publisher := connect(t, r, nil, nil)
	for i := range n {
		var got int
		if err := publisher.call(t, hub.MethodPublish, pub("storm", i), &got); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range fast {
		for i := range n {
			ev := c.next(t)
			if string(ev.Data.Bytes()) != fmt.Sprint(i) {
				t.Fatalf("event %d: %s", i, ev.Data.Bytes())
			}
		}
	}
	st := h.Stats()
	// The stuck client took one message and the pipe buffers some; the
	// hub holds at most queue for it; the rest was dropped.
	if st.Dropped < n-queue-100 || st.Dropped > n {
		t.Fatalf("dropped %d of %d events for the stuck subscriber", st.Dropped, n)
	}
}

func TestCloseSlowSubscribers(t *testing.T) {
	h, r := newHub(t, &hub.Options{MaxQueuedEvents: 4, CloseSlowSubscribers: true})
	sp := stuckSubscriber(t, h, r, "storm")
	for i := 0; i < 1000; i++ {
		if _, err := h.Publish("storm", i); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sp.Done():
			eventually(t, "the closed subscriber leaves", func() bool { return h.SubscriberCount("storm") == 0 })
			return
		default:
		}
	}
	wait(t, sp.Done(), "the slow subscriber to be closed")
}
