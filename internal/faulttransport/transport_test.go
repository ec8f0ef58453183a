package faulttransport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	ft "github.com/parleyrpc/parley/internal/faulttransport"
	"github.com/parleyrpc/parley/rpc"
)

// recorder is an rpc.Inbound that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	msgs   []string
	closed chan struct{}
	err    error
	arrive chan struct{} // signalled on each message
}

func newRecorder() *recorder {
	return &recorder{closed: make(chan struct{}), arrive: make(chan struct{}, 1000)}
}

func (r *recorder) OnMessage(msg []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, string(msg))
	r.mu.Unlock()
	r.arrive <- struct{}{}
}

func (r *recorder) OnClose(err error) {
	r.err = err
	close(r.closed)
}

func (r *recorder) MaxMessageSize() int { return 1 << 20 }

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// waitN waits until n messages have arrived.
func (r *recorder) waitN(t *testing.T, n int) []string {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d messages", n), func() bool { return len(r.got()) >= n })
	return r.got()
}

// link is a fault transport over one end of a pipe, both ends started
// with recorders: near receives what the fault transport delivers, far
// what it sends.
type link struct {
	ft        *ft.Transport
	other     rpc.Transport
	near, far *recorder
}

func newLink(t *testing.T, plan ft.Plan) *link {
	t.Helper()
	a, b := rpc.Pipe()
	tr, err := ft.New(a, plan)
	if err != nil {
		t.Fatal(err)
	}
	l := &link{ft: tr, other: b, near: newRecorder(), far: newRecorder()}
	tr.Start(l.near)
	b.Start(l.far)
	t.Cleanup(func() {
		_ = tr.Close()
		<-l.near.closed
		<-l.far.closed
	})
	return l
}

// send sends the messages one by one from the side given.
func send(t *testing.T, tr rpc.Transport, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := tr.Send(context.Background(), []byte(m)); err != nil {
			t.Fatalf("send %q: %v", m, err)
		}
	}
}

var five = []string{"m1", "m2", "m3", "m4", "m5"}

// TestKinds checks what each fault kind does to the message it is aimed
// at, in each direction, over a pipe with recording ends.
func TestKinds(t *testing.T) {
	long := []string{"m1", "m2", "abcdefgh", "m4", "m5"}
	cases := []struct {
		fault ft.Fault
		msgs  []string
		want  []string
	}{
		{ft.Fault{Kind: ft.Delay, Delay: time.Millisecond}, five, five},
		{ft.Fault{Kind: ft.Truncate}, long, []string{"m1", "m2", "abcd", "m4", "m5"}},
		{ft.Fault{Kind: ft.Truncate, Keep: 6}, long, []string{"m1", "m2", "abcdef", "m4", "m5"}},
		{ft.Fault{Kind: ft.Truncate, Keep: 100}, long, []string{"m1", "m2", "abcdefg", "m4", "m5"}},
		{ft.Fault{Kind: ft.Corrupt}, long, []string{"m1", "m2", "\x9ebcdefgh", "m4", "m5"}},
		{ft.Fault{Kind: ft.Corrupt, Offset: 99}, long, []string{"m1", "m2", "abcdefg\x97", "m4", "m5"}},
		{ft.Fault{Kind: ft.Mutate, Mutate: func(b []byte) []byte { return []byte(strings.ToUpper(string(b))) }},
			long, []string{"m1", "m2", "ABCDEFGH", "m4", "m5"}},
		{ft.Fault{Kind: ft.Duplicate}, five, []string{"m1", "m2", "m3", "m3", "m4", "m5"}},
		{ft.Fault{Kind: ft.Reorder}, five, []string{"m1", "m2", "m4", "m3", "m5"}},
		{ft.Fault{Kind: ft.Reorder, At: 5}, five, five}, // the last one: released by the window
	}
	for _, c := range cases {
		for _, dir := range []ft.Direction{ft.Outbound, ft.Inbound} {
			f := c.fault
			f.Dir = dir
			if f.At == 0 {
				f.At = 3
			}
			t.Run(f.String(), func(t *testing.T) {
				l := newLink(t, ft.Plan{Faults: []ft.Fault{f}})
				from, to := rpc.Transport(l.ft), l.far
				if dir == ft.Inbound {
					from, to = l.other, l.near
				}
				send(t, from, c.msgs...)
				got := to.waitN(t, len(c.want))
				if !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got %q, want %q", got, c.want)
				}
				st := l.ft.Stats()
				counts := st.Out
				if dir == ft.Inbound {
					counts = st.In
				}
				if counts.Messages != len(c.msgs) || counts.Passed != len(c.want) {
					t.Errorf("counts %+v: want %d messages, %d passed", counts, len(c.msgs), len(c.want))
				}
				if len(st.Injected) != 1 || string(st.Injected[0].Msg) != c.msgs[f.At-1] {
					t.Errorf("injected %+v", st.Injected)
				}
			})
		}
	}
}

// TestDrop: a Drop fault ends the link at its message, both ways, with
// ErrDropped as the cause on the faulty side and io.EOF on the other.
func TestDrop(t *testing.T) {
	for _, dir := range []ft.Direction{ft.Outbound, ft.Inbound} {
		t.Run(dir.String(), func(t *testing.T) {
			l := newLink(t, ft.Plan{Faults: []ft.Fault{{Kind: ft.Drop, Dir: dir, At: 3}}})
			from, to := rpc.Transport(l.ft), l.far
			if dir == ft.Inbound {
				from, to = l.other, l.near
			}
			send(t, from, "m1", "m2")
			to.waitN(t, 2) // a pipe delivers nothing once closed
			err := from.Send(context.Background(), []byte("m3"))
			if dir == ft.Outbound && !errors.Is(err, ft.ErrDropped) {
				t.Fatalf("send at the drop: %v", err)
			}
			<-l.near.closed
			<-l.far.closed
			if got := to.got(); !reflect.DeepEqual(got, []string{"m1", "m2"}) {
				t.Errorf("delivered %q", got)
			}
			if !errors.Is(l.near.err, ft.ErrDropped) || errors.Is(l.near.err, net.ErrClosed) {
				t.Errorf("faulty side's cause: %v", l.near.err)
			}
			if err := l.ft.Send(context.Background(), []byte("late")); !errors.Is(err, ft.ErrDropped) {
				t.Errorf("send after the drop: %v", err)
			}
		})
	}
}

// TestStallAndUnstall: a Stall fault holds its message and all later ones
// in its direction until Unstall; a stalled Send honours its context; Close
// releases a stalled Send.
func TestStallAndUnstall(t *testing.T) {
	t.Run("outbound", func(t *testing.T) {
		l := newLink(t, ft.Plan{Faults: []ft.Fault{{Kind: ft.Stall, Dir: ft.Outbound, At: 2}}})
		send(t, l.ft, "m1")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := l.ft.Send(ctx, []byte("m2")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stalled send: %v", err)
		}
		sent := make(chan error, 1)
		go func() { sent <- l.ft.Send(context.Background(), []byte("m3")) }()
		l.ft.Unstall(ft.Outbound)
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if got := l.far.waitN(t, 2); !reflect.DeepEqual(got, []string{"m1", "m3"}) {
			t.Fatalf("got %q", got)
		}
		l.ft.Stall(ft.Outbound)
		go func() { sent <- l.ft.Send(context.Background(), []byte("m4")) }()
		_ = l.ft.Close()
		if err := <-sent; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("send stalled at Close: %v", err)
		}
	})
	t.Run("inbound", func(t *testing.T) {
		l := newLink(t, ft.Plan{Faults: []ft.Fault{{Kind: ft.Stall, Dir: ft.Inbound, At: 2}}})
		send(t, l.other, "m1", "m2", "m3")
		l.near.waitN(t, 1)
		waitUntil(t, "the stall", func() bool { return l.ft.Stats().In.Messages == 2 })
		if got := l.near.got(); len(got) != 1 {
			t.Fatalf("delivered while stalled: %q", got)
		}
		l.ft.Unstall(ft.Inbound)
		if got := l.near.waitN(t, 3); !reflect.DeepEqual(got, []string{"m1", "m2", "m3"}) {
			t.Fatalf("got %q", got)
		}
	})
}

// TestLatency: SendDelay and RecvDelay delay every message and keep order.
func TestLatency(t *testing.T) {
	l := newLink(t, ft.Plan{SendDelay: time.Millisecond, RecvDelay: time.Millisecond})
	send(t, l.ft, five...)
	send(t, l.other, five...)
	if got := l.far.waitN(t, 5); !reflect.DeepEqual(got, five) {
		t.Errorf("sent %q", got)
	}
	if got := l.near.waitN(t, 5); !reflect.DeepEqual(got, five) {
		t.Errorf("received %q", got)
	}
}

// TestBadPlans: New refuses plans that make no sense.
func TestBadPlans(t *testing.T) {
	a, b := rpc.Pipe()
	defer a.Close()
	defer b.Close()
	bad := []ft.Plan{
		{Faults: []ft.Fault{{Kind: ft.Drop}}},            // At 0
		{Faults: []ft.Fault{{Kind: ft.Kind(99), At: 1}}}, // unknown kind
		{Faults: []ft.Fault{{Kind: ft.Delay, At: 1}}},    // no delay
		{Faults: []ft.Fault{{Kind: ft.Mutate, At: 1}}},   // no function
		{Faults: []ft.Fault{{Kind: ft.Truncate, At: 1, Keep: -1}}},
		{Faults: []ft.Fault{{Kind: ft.Drop, At: 1}, {Kind: ft.Corrupt, At: 1}}},
		{Faults: []ft.Fault{{Kind: ft.Drop, At: 1, Dir: ft.Direction(5)}}},
		{SendDelay: -1},
	}
	for _, p := range bad {
		if _, err := ft.New(a, p); err == nil {
			t.Errorf("New accepted %+v", p)
		}
	}
	if _, err := ft.New(nil, ft.Plan{}); err == nil {
		t.Error("New accepted a nil transport")
	}
}
