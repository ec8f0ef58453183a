package hostile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// The bounds of the Service's hub: what [HubFlood] pushes against.
const (
	HubMaxTopics        = 100
	HubMaxRegistrations = 10
	HubMaxQueued        = 256
)

func newServiceHub(r *rpc.Router) *hub.Hub {
	h, err := hub.New(&hub.Options{
		MaxTopicsPerPeer:        HubMaxTopics,
		MaxRegistrationsPerPeer: HubMaxRegistrations,
		MaxQueuedEvents:         HubMaxQueued,
	})
	must(err)
	must(h.Mount(r))
	return h
}

// Hub returns the hub mounted on the Service's router (methods "hub.…").
func (s *Service) Hub() *hub.Hub { return s.hub }

// HubFlood pushes against every bound of the Service's hub from raw
// connections: a client subscribing to [Target.HubSubscribes] topics (the
// first [HubMaxTopics] are taken, every other is refused with
// hub.CodeLimit), one registering one name 10,000 times (one registration)
// and then 10,000 names (the first [HubMaxRegistrations] taken), and a
// publish storm at a subscriber that stopped reading (the publisher never
// waits, another subscriber gets every event in order, and the stuck one's
// queue stays bounded: what does not fit is dropped, or the transport
// drops the client). The live heap stays bounded throughout.
func HubFlood(t *testing.T, tg Target) {
	tg = tg.withDefaults()
	t.Run("subscribe flood", func(t *testing.T) { hubSubscribeFlood(t, tg) })
	t.Run("register flood", func(t *testing.T) { hubRegisterFlood(t, tg) })
	t.Run("publish storm at a stuck subscriber", func(t *testing.T) { hubStuckSubscriber(t, tg) })
}

// pipelined sends the calls from a goroutine and checks each answer, in
// whatever order they come, with check(index, message).
func pipelined(ctx context.Context, t *testing.T, tg Target, conn Conn, msgs [][]byte, checkOne func(i int, m *codec.Message) error) {
	t.Helper()
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
	seen := make([]bool, len(msgs))
	for range msgs {
		got, err := conn.Recv(ctx)
		if err != nil {
			t.Fatalf("waiting for the answers: %v", err)
		}
		ms, batch, err := tg.Codec.Decode(nil, got)
		if err != nil || batch || len(ms) != 1 {
			t.Fatalf("answer %s: %v", short(got), err)
		}
		i, ok := ms[0].ID.Int()
		if !ok || i < 0 || i >= int64(len(msgs)) || seen[i] {
			t.Fatalf("answer with id %v: not one of the calls, or twice", ms[0].ID)
		}
		seen[i] = true
		if err := checkOne(int(i), &ms[0]); err != nil {
			t.Fatalf("answer %s: %v", short(got), err)
		}
	}
	if err := <-sent; err != nil {
		t.Fatalf("sending: %v", err)
	}
}

// taken reports whether m is a true result, or a refusal with code.
func taken(c codec.Codec, m *codec.Message, code rpc.Code) (bool, error) {
	if m.Error != nil {
		if rpc.Code(m.Error.Code) != code {
			return false, fmt.Errorf("error %d %q, want %d", m.Error.Code, m.Error.Message, code)
		}
		return false, nil
	}
	var ok bool
	if err := c.Unmarshal(m.Result, &ok); err != nil || !ok {
		return false, fmt.Errorf("result %s, want true", short(m.Result))
	}
	return true, nil
}

func hubSubscribeFlood(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*tg.CaseTimeout)
	defer cancel()
	conn, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	n := tg.HubSubscribes
	msgs := make([][]byte, n)
	for i := range msgs {
		if msgs[i], err = request(tg.Codec, hub.MethodSubscribe, map[string]string{"topic": "flood." + strconv.Itoa(i)}, codec.Int(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	heap0 := LiveHeap()
	ok := 0
	pipelined(ctx, t, tg, conn, msgs, func(_ int, m *codec.Message) error {
		yes, err := taken(tg.Codec, m, hub.CodeLimit)
		if yes {
			ok++
		}
		return err
	})
	heap1 := LiveHeap()
	if ok != HubMaxTopics {
		t.Errorf("%d of %d subscriptions taken, want %d", ok, n, HubMaxTopics)
	}
	if heap1 > heap0 && heap1-heap0 > FloodHeapBound {
		t.Errorf("live heap grew by %d MiB over %d subscriptions", (heap1-heap0)>>20, n)
	}
	t.Logf("%d subscriptions asked, %d taken, %+d KiB live heap", n, ok, (int64(heap1)-int64(heap0))>>10)
	if err := sentinel(ctx, tg, conn, "subscribe-flood"); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

func hubRegisterFlood(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*tg.CaseTimeout)
	defer cancel()
	conn, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	const n = 10_000
	name := "flood.same." + tg.Codec.Name()
	same, distinct := make([][]byte, n), make([][]byte, n)
	for i := range n {
		if same[i], err = request(tg.Codec, hub.MethodRegister, map[string]string{"procedure": name}, codec.Int(int64(i))); err != nil {
			t.Fatal(err)
		}
		p := map[string]string{"procedure": "flood." + tg.Codec.Name() + "." + strconv.Itoa(i)}
		if distinct[i], err = request(tg.Codec, hub.MethodRegister, p, codec.Int(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	pipelined(ctx, t, tg, conn, same, func(_ int, m *codec.Message) error {
		yes, err := taken(tg.Codec, m, 0)
		if err == nil && !yes {
			err = errors.New("refused")
		}
		return err
	})
	if got := len(tg.Service.Hub().Registrants(name)); got != 1 {
		t.Fatalf("%d registrations of one name registered %d times by one client, want 1", n, got)
	}
	ok := 0
	pipelined(ctx, t, tg, conn, distinct, func(_ int, m *codec.Message) error {
		yes, err := taken(tg.Codec, m, hub.CodeLimit)
		if yes {
			ok++
		}
		return err
	})
	if ok != HubMaxRegistrations-1 {
		t.Errorf("%d of %d more registrations taken, want %d", ok, n, HubMaxRegistrations-1)
	}
	// Another client may not take a Single name.
	other, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer other.Close()
	msg, _ := request(tg.Codec, hub.MethodRegister, map[string]string{"procedure": name}, codec.Int(1))
	if err := other.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	got, err := other.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := check(tg.Codec, got, errorOf(hub.CodeProcedureExists, codec.Int(1))); err != nil {
		t.Fatalf("a second registrant of a single name: %v: %s", err, short(got))
	}
	if err := sentinel(ctx, tg, conn, "register-flood"); err != nil {
		t.Fatalf("after the flood: %v", err)
	}
}

func hubStuckSubscriber(t *testing.T, tg Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*tg.CaseTimeout)
	defer cancel()
	h := tg.Service.Hub()
	topic := "storm." + tg.Codec.Name()
	subscribe := func() Conn {
		c, err := tg.Dial(ctx)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		msg, _ := request(tg.Codec, hub.MethodSubscribe, map[string]string{"topic": topic}, codec.Int(1))
		if err := c.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		got, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(tg.Codec, got, resultOf(codec.Int(1), true)); err != nil {
			t.Fatalf("subscribe: %v", err)
		}
		return c
	}
	stuck := subscribe() // and from now on, never read
	defer stuck.Close()
	reader := subscribe()
	defer reader.Close()
	publisher, err := tg.Dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer publisher.Close()

	n := tg.HubStorm
	pad := strings.Repeat("x", 16<<10)
	if RaceEnabled {
		pad = pad[:4<<10]
	}
	dropped0 := h.Stats().Dropped
	heap0 := LiveHeap()
	got := make(chan error, 1)
	go func() {
		for i := range n {
			msg, err := reader.Recv(ctx)
			if err == nil {
				err = checkEvent(tg.Codec, msg, topic, i)
			}
			if err != nil {
				got <- fmt.Errorf("event %d: %w", i, err)
				return
			}
		}
		got <- nil
	}()
	start := time.Now()
	for i := range n {
		// One at a time, each answered: the reader keeps up, so that
		// only the stuck subscriber falls behind.
		msg, _ := request(tg.Codec, hub.MethodPublish, map[string]any{"topic": topic, "data": map[string]any{"i": i, "pad": pad}}, codec.Int(int64(i)))
		if err := publisher.Send(ctx, msg); err != nil {
			t.Fatal(err)
		}
		ans, err := publisher.Recv(ctx)
		if err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
		if ms, _, err := tg.Codec.Decode(nil, ans); err != nil || len(ms) != 1 || ms[0].Error != nil {
			t.Fatalf("publish %d: %s", i, short(ans))
		}
	}
	took := time.Since(start)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	heap1 := LiveHeap()
	st := h.Stats()
	dropped := st.Dropped - dropped0
	stuckGone := h.SubscriberCount(topic) < 2
	// The reader has everything: all that waits is the stuck one's.
	if st.Queued > HubMaxQueued {
		t.Errorf("%d events wait for a subscriber that reads nothing, bound %d", st.Queued, HubMaxQueued)
	}
	if heap1 > heap0 && heap1-heap0 > FloodHeapBound {
		t.Errorf("live heap grew by %d MiB over the storm", (heap1-heap0)>>20)
	}
	t.Logf("%d publishes of %d KiB in %v; the stuck subscriber has %d waiting, missed %d (dropped by the transport: %v); %+d KiB live heap",
		n, len(pad)>>10, took, st.Queued, dropped, stuckGone, (int64(heap1)-int64(heap0))>>10)
}

// checkEvent checks that msg is the hub.event of topic numbered i.
func checkEvent(c codec.Codec, msg []byte, topic string, i int) error {
	ms, batch, err := c.Decode(nil, msg)
	if err != nil || batch || len(ms) != 1 {
		return fmt.Errorf("not one message: %s", short(msg))
	}
	m := &ms[0]
	if m.Method != hub.EventMethod || !m.ID.IsZero() {
		return fmt.Errorf("not a %s notification: %s", hub.EventMethod, short(msg))
	}
	var p struct {
		Topic string `json:"topic"`
		Data  struct {
			I int `json:"i"`
		} `json:"data"`
	}
	if err := c.Unmarshal(m.Params, &p); err != nil {
		return err
	}
	if p.Topic != topic || p.Data.I != i {
		return fmt.Errorf("event %s #%d, want %s #%d", p.Topic, p.Data.I, topic, i)
	}
	return nil
}
