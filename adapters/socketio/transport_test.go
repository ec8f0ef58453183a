package socketio

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/codec/json"
)

// fakeConn is a socket.io connection whose Emit waits until the test lets
// it through.
type fakeConn struct {
	sio.Conn // embedded so the fake satisfies sio.Conn; the transport calls only the methods below

	gate    chan struct{} // one token per Emit allowed through
	emitted chan string
	closed  chan struct{}
	once    sync.Once
}

func newFakeConn() *fakeConn {
	return &fakeConn{gate: make(chan struct{}, 100), emitted: make(chan string, 100), closed: make(chan struct{})}
}

func (c *fakeConn) ID() string   { return "fake" }
func (c *fakeConn) URL() url.URL { return url.URL{} }
func (c *fakeConn) RemoteHeader() http.Header {
	return http.Header{}
}
func (c *fakeConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// Emit behaves like go-socket.io's: it waits for the writer (here, the
// gate) and returns at once when the connection is closed.
func (c *fakeConn) Emit(event string, v ...any) {
	select {
	case <-c.gate:
		c.emitted <- v[0].(string)
	case <-c.closed:
	}
}

// fakeInbound records what the transport delivers; OnMessage waits while
// hold is not nil.
type fakeInbound struct {
	mu       sync.Mutex
	msgs     []string
	closes   []error
	hold     chan struct{}
	inside   chan struct{} // receives when OnMessage has started
	closedCh chan struct{}
}

func newFakeInbound() *fakeInbound {
	return &fakeInbound{inside: make(chan struct{}, 10), closedCh: make(chan struct{})}
}

func (in *fakeInbound) MaxMessageSize() int { return 1 << 10 }

func (in *fakeInbound) OnMessage(msg []byte) {
	in.inside <- struct{}{}
	if in.hold != nil {
		<-in.hold
	}
	in.mu.Lock()
	in.msgs = append(in.msgs, string(msg))
	in.mu.Unlock()
}

func (in *fakeInbound) OnClose(err error) {
	in.mu.Lock()
	in.closes = append(in.closes, err)
	n := len(in.closes)
	in.mu.Unlock()
	if n == 1 {
		close(in.closedCh)
	}
}

func (in *fakeInbound) snapshot() ([]string, []error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.msgs...), append([]error(nil), in.closes...)
}

func testServer(queue int, idle time.Duration) *Server {
	return &Server{event: "rpc", sendQueue: queue, idle: idle, log: slog.New(slog.DiscardHandler), conns: map[sio.Conn]*transport{}}
}

func startTransport(srv *Server, conn *fakeConn, in *fakeInbound) *transport {
	t := newTransport(conn, srv)
	t.codec = json.Codec{}
	srv.conns[conn] = t
	t.Start(in)
	return t
}

func text(s string) *eventArg {
	lit, _ := stdjson.Marshal(s)
	return &eventArg{kind: argText, text: string(lit)}
}

// TestSendHonoursContext: with the writer stuck in Emit and the queue
// full, Send gives up when its context ends; after Close it fails with
// net.ErrClosed; msg may be reused once Send returned.
func TestSendHonoursContext(t *testing.T) {
	conn, in := newFakeConn(), newFakeInbound()
	tr := startTransport(testServer(1, 0), conn, in)

	msg := []byte(`{"a":1}`)
	if err := tr.Send(context.Background(), msg); err != nil { // the writer takes it and waits in Emit
		t.Fatal(err)
	}
	msg[2] = 'X' // Send keeps no reference to msg
	deadline := time.Now().Add(5 * time.Second)
	for len(tr.queue) != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := tr.Send(context.Background(), []byte(`{"b":2}`)); err != nil { // fills the queue
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Send(ctx, []byte(`{"c":3}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send with the queue full: got %v, want the context's error", err)
	}
	conn.gate <- struct{}{}
	if got := <-conn.emitted; got != `{"a":1}` {
		t.Errorf("emitted %q", got)
	}
	_ = tr.Close()
	if err := tr.Send(context.Background(), []byte(`{}`)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: got %v", err)
	}
	<-in.closedCh
	if _, closes := in.snapshot(); len(closes) != 1 || !errors.Is(closes[0], net.ErrClosed) {
		t.Errorf("OnClose calls: %v", closes)
	}
}

// TestCloseWaitsForDelivery: a disconnect while the peer holds a message
// is reported after OnMessage returns, exactly once, whatever else ends
// the link meanwhile; messages after the end are dropped.
func TestCloseWaitsForDelivery(t *testing.T) {
	conn, in := newFakeConn(), newFakeInbound()
	in.hold = make(chan struct{})
	tr := startTransport(testServer(4, 0), conn, in)

	delivered := make(chan struct{})
	go func() {
		tr.receive(text(`{"jsonrpc":"2.0","method":"x"}`))
		close(delivered)
	}()
	<-in.inside
	tr.disconnected("client namespace disconnect")
	_ = tr.Close()
	tr.end(ErrIdle)
	if _, closes := in.snapshot(); len(closes) != 0 {
		t.Fatalf("OnClose ran while OnMessage held the message: %v", closes)
	}
	close(in.hold)
	<-delivered
	tr.receive(text("late")) // dropped
	msgs, closes := in.snapshot()
	if len(msgs) != 1 || len(closes) != 1 {
		t.Fatalf("messages %q, OnClose calls %v", msgs, closes)
	}
	if !errors.Is(closes[0], io.EOF) {
		t.Errorf("cause %v, want io.EOF (the client left first)", closes[0])
	}
}

// TestLastErrorIsTheCause: an error go-socket.io reported before the
// disconnect becomes the cause.
func TestLastErrorIsTheCause(t *testing.T) {
	conn, in := newFakeConn(), newFakeInbound()
	tr := startTransport(testServer(4, 0), conn, in)
	boom := errors.New("websocket: close 1006 (abnormal closure)")
	tr.noteError(boom)
	tr.disconnected("client namespace disconnect")
	<-in.closedCh
	if _, closes := in.snapshot(); !errors.Is(closes[0], boom) {
		t.Errorf("cause %v", closes[0])
	}
}

// TestRejectionAnswers: a payload that is not a message is answered with
// an error whose id is null, and the peer never sees it.
func TestRejectionAnswers(t *testing.T) {
	conn, in := newFakeConn(), newFakeInbound()
	tr := startTransport(testServer(4, 0), conn, in)
	defer tr.Close()
	tr.receive(&eventArg{kind: argOther, what: "a number"})
	conn.gate <- struct{}{}
	got := <-conn.emitted
	var m struct {
		ID    *int
		Error struct{ Code int }
	}
	if err := stdjson.Unmarshal([]byte(got), &m); err != nil || m.ID != nil || m.Error.Code != codeInvalidRequest {
		t.Errorf("answer %s (%v)", got, err)
	}
	if msgs, _ := in.snapshot(); len(msgs) != 0 {
		t.Errorf("the peer got %q", msgs)
	}
}

// TestIdle: the idle check re-arms while messages arrive and closes a
// silent link with ErrIdle.
func TestIdle(t *testing.T) {
	conn, in := newFakeConn(), newFakeInbound()
	tr := startTransport(testServer(4, time.Hour), conn, in)
	tr.receive(text(`{}`))
	tr.checkIdle() // a message just arrived: re-arms
	tr.mu.Lock()
	ended := tr.ended
	tr.mu.Unlock()
	if ended {
		t.Fatal("the idle check closed a busy link")
	}
	tr.srv.idle = 0 // now any quiet counts: the next check closes
	tr.checkIdle()
	<-in.closedCh
	if _, closes := in.snapshot(); !errors.Is(closes[0], ErrIdle) {
		t.Errorf("cause %v", closes[0])
	}
	<-conn.closed
}
