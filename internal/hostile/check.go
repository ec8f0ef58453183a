package hostile

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
)

// Target is a server under test, as an adapter's test sets it up: each
// connection's peer made with [Service.PeerOptions] of Service.
type Target struct {
	// Codec is the codec of the connections Dial opens.
	Codec codec.Codec
	// Service is what the server's peers serve.
	Service *Service
	// Dial opens a new raw connection to the server.
	Dial func(ctx context.Context) (Conn, error)

	// OversizeCloses says what the transport does with a message over
	// the peer's limit: refuse it while reading and close the connection
	// (true: WebSocket's close code 1009), or hand it to the peer, which
	// answers -32600 with id null and keeps the connection.
	OversizeCloses bool
	// CheckClose, if not nil, checks the error Recv returned when the
	// server closed the connection (the close code, say).
	CheckClose func(err error) error

	// CaseTimeout bounds each case (default 30 s: the race detector on a
	// busy machine is slow with the million-element cases).
	CaseTimeout time.Duration
	// CancelFlood is how many $/cancelRequest notifications [CancelFlood]
	// sends: by default 100,000, or 20,000 under the race detector, which
	// makes each message cost many times as much and would take a
	// package's tests past their time bound.
	CancelFlood int
	// CallFlood is how many calls [Flood] sends (default 2,000).
	CallFlood int
	// HubSubscribes is how many topics [HubFlood] subscribes one client
	// to: by default 100,000, or 20,000 under the race detector.
	HubSubscribes int
	// HubStorm is how many events (16 KiB, 4 KiB under the race
	// detector) [HubFlood] publishes at a subscriber that stopped reading
	// (default 1,000).
	HubStorm int
	// FloodGoroutineSlack is how many goroutines the transport itself may
	// add while a flood is under way, beyond the few a connection has:
	// for transports that start a short-lived goroutine per message.
	FloodGoroutineSlack int
}

func (tg Target) withDefaults() Target {
	if tg.CaseTimeout <= 0 {
		tg.CaseTimeout = 30 * time.Second
	}
	if tg.CancelFlood <= 0 {
		tg.CancelFlood = 100_000
		if RaceEnabled {
			tg.CancelFlood = 20_000
		}
	}
	if tg.CallFlood <= 0 {
		tg.CallFlood = 2_000
	}
	if tg.HubSubscribes <= 0 {
		tg.HubSubscribes = 100_000
		if RaceEnabled {
			tg.HubSubscribes = 20_000
		}
	}
	if tg.HubStorm <= 0 {
		tg.HubStorm = 1_000
	}
	return tg
}

// HeapBound is how much the live heap may grow over a whole [Run]: far
// more than the connections need once closed, far less than an unbounded
// pile of messages or goroutines would take.
const HeapBound = 64 << 20

// Run runs every case of [Corpus] for the target's codec ([RunCases]),
// then [Flood], [CancelFlood], [UnreadFlood] and [HubFlood], and checks
// that the live heap grew by
// less than [HeapBound] and that no handler panicked.
func Run(t *testing.T, tg Target) {
	t.Helper()
	tg = tg.withDefaults()
	before := LiveHeap()
	t.Run("corpus", func(t *testing.T) { RunCases(t, tg, Corpus(tg.Codec)) })
	t.Run("call flood", func(t *testing.T) { Flood(t, tg) })
	t.Run("cancel flood", func(t *testing.T) { CancelFlood(t, tg) })
	t.Run("unread flood", func(t *testing.T) { UnreadFlood(t, tg) })
	t.Run("hub", func(t *testing.T) { HubFlood(t, tg) })
	after := LiveHeap()
	t.Logf("live heap: %d KiB before, %d KiB after", before>>10, after>>10)
	if after > before && after-before > HeapBound {
		t.Errorf("live heap grew by %d MiB (bound %d MiB)", (after-before)>>20, HeapBound>>20)
	}
	if n := tg.Service.Panics(); n > 0 {
		t.Errorf("the peers logged %d errors (handler panics, answers that failed to encode)", n)
	}
}

// RunCases runs the cases in order on one connection, opening a new one
// after a case that closes it (or fails). After each case it makes a real
// call and checks that its answer is the next message: the connection is
// still usable, and the case had no answer beyond the one it should.
func RunCases(t *testing.T, tg Target, cases []Case) {
	t.Helper()
	tg = tg.withDefaults()
	var conn Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	for i, c := range cases {
		ok := t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tg.CaseTimeout)
			defer cancel()
			if conn == nil {
				var err error
				if conn, err = tg.Dial(ctx); err != nil {
					t.Fatalf("dial: %v", err)
				}
			}
			if runCase(ctx, t, tg, conn, c) {
				_ = conn.Close()
				conn = nil
				return
			}
			if err := sentinel(ctx, tg, conn, "after-"+strconv.Itoa(i)); err != nil {
				t.Fatalf("the connection is not usable after the case: %v", err)
			}
		})
		if !ok && conn != nil {
			// Start afresh, so that one failure does not spill into the
			// cases after it.
			_ = conn.Close()
			conn = nil
		}
	}
	t.Logf("%d hostile cases for %s", len(cases), tg.Codec.Name())
}

// runCase sends the case and checks its outcome. It reports whether the
// connection is closed (as the case wanted).
func runCase(ctx context.Context, t *testing.T, tg Target, conn Conn, c Case) (closed bool) {
	t.Helper()
	want := c.Want
	if want.Kind == Oversize {
		if tg.OversizeCloses {
			want = Want{Kind: Closed}
		} else {
			want = invalid(null)
		}
	}
	msg := c.Build()
	sendErr := conn.Send(ctx, msg)
	if sendErr != nil && want.Kind != Closed {
		t.Fatalf("send: %v", sendErr)
	}
	switch want.Kind {
	case Closed:
		got, err := conn.Recv(ctx)
		if err == nil {
			t.Fatalf("got %s, want the connection closed", short(got))
		}
		if !errors.Is(err, ErrConnClosed) {
			t.Fatalf("waiting for the close: %v", err)
		}
		if tg.CheckClose != nil {
			if err := tg.CheckClose(err); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
		return true
	case NoAnswer:
		return false // the sentinel's answer must come next
	}
	got, err := conn.Recv(ctx)
	if err != nil {
		t.Fatalf("want %v, got %v", want, err)
	}
	if err := check(tg.Codec, got, want); err != nil {
		t.Fatalf("%v\nanswer: %s", err, short(got))
	}
	return false
}

// sentinel calls add [20, 22] with a string id and checks that the next
// message is its answer, 42.
func sentinel(ctx context.Context, tg Target, conn Conn, tag string) error {
	id := codec.String("sentinel-" + tag)
	msg, err := request(tg.Codec, "add", []int{20, 22}, id)
	if err != nil {
		return err
	}
	if err := conn.Send(ctx, msg); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	got, err := conn.Recv(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the answer to add: %w", err)
	}
	if err := check(tg.Codec, got, resultOf(id, 42)); err != nil {
		return fmt.Errorf("the next message is not the answer to add: %w: %s", err, short(got))
	}
	return nil
}

// request encodes a call with c.
func request(c codec.Codec, method string, params any, id codec.ID) ([]byte, error) {
	m := codec.Message{Method: method, ID: id}
	if params != nil {
		p, err := c.Marshal(params)
		if err != nil {
			return nil, err
		}
		m.Params = p
	}
	return c.AppendMessage(nil, &m)
}

// check decodes an answer and compares it with want (Answer or
// BatchAnswer).
func check(c codec.Codec, data []byte, want Want) error {
	msgs, batch, err := c.Decode(nil, data)
	if err != nil {
		return fmt.Errorf("the answer does not decode: %w", err)
	}
	switch want.Kind {
	case Answer:
		if batch || len(msgs) != 1 {
			return fmt.Errorf("got a batch of %d, want one response", len(msgs))
		}
		return checkOne(c, &msgs[0], want)
	case BatchAnswer:
		if !batch {
			return errors.New("got a single response, want a batch")
		}
		return checkBatch(c, msgs, want.Items)
	}
	return fmt.Errorf("want %v, got a message", want)
}

// checkBatch matches the responses to the wanted ones by id, in any order.
func checkBatch(c codec.Codec, msgs []codec.Message, items []Want) error {
	if len(msgs) != len(items) {
		return fmt.Errorf("got %d responses in the batch, want %d", len(msgs), len(items))
	}
	byID := make(map[codec.ID][]int)
	var anyID []int
	for i, w := range items {
		if w.AnyID {
			anyID = append(anyID, i)
		} else {
			byID[w.ID] = append(byID[w.ID], i)
		}
	}
	used := make([]bool, len(items))
	for k := range msgs {
		m := &msgs[k]
		matched := false
		var firstErr error
		for _, i := range append(byID[m.ID], anyID...) {
			if used[i] {
				continue
			}
			if err := checkOne(c, m, items[i]); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			used[i], matched = true, true
			break
		}
		if !matched {
			if firstErr == nil {
				firstErr = errors.New("no such response wanted")
			}
			return fmt.Errorf("response %d of the batch (id %v): %w", k, m.ID, firstErr)
		}
	}
	return nil
}

// checkOne compares one response with want.
func checkOne(c codec.Codec, m *codec.Message, want Want) error {
	if m.Invalid != "" {
		return fmt.Errorf("the answer is not a valid response: %s", m.Invalid)
	}
	if m.IsRequest() {
		return fmt.Errorf("got a request (%s), want a response", m.Method)
	}
	if !want.AnyID && m.ID != want.ID {
		return fmt.Errorf("got id %v, want %v", m.ID, want.ID)
	}
	if want.Code != 0 {
		if m.Error == nil {
			return fmt.Errorf("got a result %s, want error %d", short(m.Result), want.Code)
		}
		if m.Error.Code != int64(want.Code) {
			return fmt.Errorf("got error %d (%s), want %d", m.Error.Code, shortText(m.Error.Message), want.Code)
		}
		return nil
	}
	if m.Error != nil {
		if want.OrCode != 0 && m.Error.Code == int64(want.OrCode) {
			return nil
		}
		return fmt.Errorf("got error %d (%s), want a result", m.Error.Code, shortText(m.Error.Message))
	}
	if want.NullResult {
		var v any
		if err := c.Unmarshal(m.Result, &v); err != nil || v != nil {
			return fmt.Errorf("got result %s, want null", short(m.Result))
		}
	}
	if want.Result != nil {
		v := reflect.New(reflect.TypeOf(want.Result))
		if err := c.Unmarshal(m.Result, v.Interface()); err != nil {
			return fmt.Errorf("result %s: %w", short(m.Result), err)
		}
		if got := v.Elem().Interface(); !reflect.DeepEqual(got, want.Result) {
			return fmt.Errorf("got result %v, want %v", got, want.Result)
		}
	}
	return nil
}

// short quotes the start of a message for a failure report.
func short(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%q... (%d bytes)", b[:200], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func shortText(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
