package hub_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

func TestPatternMatching(t *testing.T) {
	h, r := newHub(t, nil)
	patterns := []string{"a.b.c", "a.*.c", "a.>", "*.b.*", ">", "a.b", "x.y.>"}
	byPattern := map[*rpc.Peer]string{}
	for _, p := range patterns {
		c := connect(t, r, nil, nil)
		c.must(t, hub.MethodSubscribe, sub(p))
		byPattern[c.server] = p
	}
	for topic, want := range map[string][]string{
		"a.b.c":   {"a.b.c", "a.*.c", "a.>", "*.b.*", ">"},
		"a.x.c":   {"a.*.c", "a.>", ">"},
		"a.b":     {"a.>", "a.b", ">"},
		"a":       {">"},
		"q.b.z":   {"*.b.*", ">"},
		"x.y":     {">"},
		"x.y.z.w": {"x.y.>", ">"},
		"a.b.c.d": {"a.>", ">"},
	} {
		var got []string
		for _, p := range h.Matching(topic) {
			got = append(got, byPattern[p])
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s matches %v, want %v", topic, got, want)
		}
	}
	if n := h.SubscriberCount("a.*.c"); n != 1 {
		t.Fatalf("SubscriberCount = %d", n)
	}
}

func TestInvalidNamesRefused(t *testing.T) {
	_, r := newHub(t, &hub.Options{MaxNameLength: 32})
	c := connect(t, r, nil, nil)
	for _, p := range []string{"", "a..b", ".a", "a.", "a.>.b", "a*", "a.b>", "a b", "a.0123456789012345678901234567890123"} {
		if err := c.call(t, hub.MethodSubscribe, sub(p), nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Errorf("subscribe %q: %v", p, err)
		}
	}
	for _, topic := range []string{"a.*", "a.>", ">", ""} {
		if err := c.call(t, hub.MethodPublish, pub(topic, 1), nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Errorf("publish %q: %v", topic, err)
		}
	}
	for _, m := range []string{hub.MethodSubscribe, hub.MethodPublish, hub.MethodRegister, hub.MethodCall} {
		if err := c.call(t, m, nil, nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Errorf("%s without params: %v", m, err)
		}
		if err := c.call(t, m, []int{1}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Errorf("%s with positional params: %v", m, err)
		}
	}
	if err := c.call(t, "hub.nothing", nil, nil); !errors.Is(err, rpc.ErrMethodNotFound) {
		t.Errorf("unknown hub method: %v", err)
	}
}

func TestPublishReachesEachSubscriberOnceAndNotThePublisher(t *testing.T) {
	_, r := newHub(t, nil)
	a := connect(t, r, nil, nil)
	b := connect(t, r, nil, nil)
	other := connect(t, r, nil, nil)
	a.must(t, hub.MethodSubscribe, sub("chat.>"))
	a.must(t, hub.MethodSubscribe, sub("chat.lobby")) // overlapping: still one event
	b.must(t, hub.MethodSubscribe, sub("chat.lobby"))
	other.must(t, hub.MethodSubscribe, sub("news.>"))

	var n int
	if err := b.call(t, hub.MethodPublish, pub("chat.lobby", map[string]string{"text": "hi"}), &n); err != nil || n != 1 {
		t.Fatalf("publish: %d %v", n, err)
	}
	ev := a.next(t)
	var msg map[string]string
	if err := ev.Data.Decode(&msg); err != nil || ev.Topic != "chat.lobby" || msg["text"] != "hi" {
		t.Fatalf("event %+v %v %v", ev, msg, err)
	}
	a.none(t)
	b.none(t)
	other.none(t)

	// excludeMe false: the publisher hears its own.
	if err := b.call(t, hub.MethodPublish, map[string]any{"topic": "chat.lobby", "data": 2, "excludeMe": false}, &n); err != nil || n != 2 {
		t.Fatalf("publish: %d %v", n, err)
	}
	if ev := b.next(t); ev.Topic != "chat.lobby" {
		t.Fatalf("%+v", ev)
	}
	a.next(t)

	// Unsubscribe: one pattern gone, the other still matches.
	var was bool
	if err := a.call(t, hub.MethodUnsubscribe, sub("chat.>"), &was); err != nil || !was {
		t.Fatalf("unsubscribe: %v %v", was, err)
	}
	if err := a.call(t, hub.MethodUnsubscribe, sub("chat.>"), &was); err != nil || was {
		t.Fatalf("second unsubscribe: %v %v", was, err)
	}
	b.must(t, hub.MethodPublish, pub("chat.other", 3))
	b.must(t, hub.MethodPublish, pub("chat.lobby", 4))
	if ev := a.next(t); string(ev.Data.Bytes()) != "4" {
		t.Fatalf("%+v", ev)
	}
	a.none(t)
}

// Publish as a notification: no answer, the event still goes out.
func TestPublishAsNotification(t *testing.T) {
	_, r := newHub(t, nil)
	a := connect(t, r, nil, nil)
	b := connect(t, r, nil, nil)
	a.must(t, hub.MethodSubscribe, sub("t"))
	if err := b.peer.Notify(testCtx(t), hub.MethodPublish, pub("t", "x")); err != nil {
		t.Fatal(err)
	}
	if ev := a.next(t); string(ev.Data.Bytes()) != `"x"` {
		t.Fatalf("%+v", ev)
	}
}

func TestEventsInOrderAcrossCodecs(t *testing.T) {
	h, r := newHub(t, nil)
	j := connect(t, r, nil, json.Codec{})
	c := connect(t, r, nil, cbor.Codec{})
	pubJSON := connect(t, r, nil, json.Codec{})
	pubCBOR := connect(t, r, nil, cbor.Codec{})
	j.must(t, hub.MethodSubscribe, sub("n.*"))
	c.must(t, hub.MethodSubscribe, sub("n.*"))
	for i := range 200 {
		from := pubJSON
		if i%2 == 1 {
			from = pubCBOR
		}
		from.must(t, hub.MethodPublish, pub("n.x", map[string]any{"i": i, "s": fmt.Sprint(i)}))
	}
	// And Go code on the server.
	if n, err := h.Publish("n.go", map[string]any{"i": 200, "s": "200"}); err != nil || n != 2 {
		t.Fatalf("Publish: %d %v", n, err)
	}
	for _, sc := range []*client{j, c} {
		for i := range 201 {
			ev := sc.next(t)
			var v struct {
				I int    `json:"i"`
				S string `json:"s"`
			}
			if err := ev.Data.Decode(&v); err != nil || v.I != i || v.S != fmt.Sprint(i) {
				t.Fatalf("event %d: %+v %v (%x)", i, v, err, ev.Data.Bytes())
			}
		}
	}
}

// countingCodec counts the values it encodes outside envelopes.
type countingCodec struct {
	json.Codec
	n *atomic.Int64
}

func (c countingCodec) Marshal(v any) ([]byte, error) {
	c.n.Add(1)
	return c.Codec.Marshal(v)
}

func (c countingCodec) AppendValue(dst []byte, v any) ([]byte, error) {
	c.n.Add(1)
	return c.Codec.AppendValue(dst, v)
}

func TestPublishEncodesOncePerCodec(t *testing.T) {
	h, r := newHub(t, nil)
	cc := countingCodec{n: new(atomic.Int64)}
	var subs []*client
	for range 50 {
		s := connect(t, r, nil, cc)
		s.must(t, hub.MethodSubscribe, sub("t"))
		subs = append(subs, s)
	}
	before := cc.n.Load()
	if n, err := h.Publish("t", map[string]int{"v": 1}); err != nil || n != 50 {
		t.Fatalf("%d %v", n, err)
	}
	for _, s := range subs {
		s.next(t)
	}
	// The server's side encodes the event once; each client's side then
	// decodes it (decoding does not count) and answers nothing.
	if got := cc.n.Load() - before; got != 1 {
		t.Fatalf("%d encodings for 50 subscribers, want 1", got)
	}
}

func TestPeerLeavesEverythingWhenItEnds(t *testing.T) {
	h, r := newHub(t, nil)
	a := connect(t, r, nil, nil)
	a.must(t, hub.MethodSubscribe, sub("x.>"))
	a.must(t, hub.MethodSubscribe, sub("y"))
	a.must(t, hub.MethodRegister, map[string]any{"procedure": "svc"})
	if len(h.Topics(a.server)) != 2 || len(h.Registrants("svc")) != 1 {
		t.Fatal("not subscribed")
	}
	a.peer.Close()
	eventually(t, "the peer leaves", func() bool {
		return h.SubscriberCount("x.>") == 0 && h.SubscriberCount("y") == 0 && len(h.Registrants("svc")) == 0 && h.Stats().Peers == 0
	})
	// A peer that ended cannot join again.
	if err := h.Subscribe(a.server, "z"); err == nil {
		t.Fatal("an ended peer subscribed")
	}
}

func TestGoAPISubscribe(t *testing.T) {
	h, r := newHub(t, nil)
	a := connect(t, r, nil, nil)
	if err := h.Subscribe(a.server, "sys.>"); err != nil {
		t.Fatal(err)
	}
	if got := h.Subscribers("sys.>"); len(got) != 1 || got[0] != a.server {
		t.Fatalf("Subscribers = %v", got)
	}
	if n, err := h.PublishFrom(a.server, "sys.boot", 1, false); err != nil || n != 0 {
		t.Fatalf("PublishFrom excluding self: %d %v", n, err)
	}
	if n, err := h.PublishFrom(a.server, "sys.boot", 2, true); err != nil || n != 1 {
		t.Fatalf("PublishFrom including self: %d %v", n, err)
	}
	if ev := a.next(t); string(ev.Data.Bytes()) != "2" {
		t.Fatalf("%+v", ev)
	}
	if !h.Unsubscribe(a.server, "sys.>") || h.Unsubscribe(a.server, "sys.>") {
		t.Fatal("Unsubscribe")
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []hub.Options{{MaxTopicsPerPeer: -1}, {MaxQueuedEvents: -5}, {CallTimeout: -1}} {
		if _, err := hub.New(&o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// Publishes under way while subscribers leave and the hub closes: Close
// waits for every event writer, and none starts after it has begun to
// wait (the race detector caught one that did, in the chat example).
func TestCloseWhilePublishing(t *testing.T) {
	for range 100 {
		h, r := newHub(t, nil)
		var clients []*client
		for range 4 {
			c := connect(t, r, nil, nil)
			c.must(t, hub.MethodSubscribe, map[string]any{"topic": "t"})
			clients = append(clients, c)
		}
		done := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					h.Publish("t", 1)
				}
			}()
		}
		for _, c := range clients[:2] {
			go c.server.Close() // leaving while the hub closes
		}
		h.Close()
		close(done)
		wg.Wait()
		if n, err := h.Publish("t", 1); n != 0 || err == nil {
			t.Fatalf("Publish after Close: %d, %v", n, err)
		}
	}
}
