package websocket_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// restartable is a server on a fixed 127.0.0.1 address that can be
// stopped and started again there.
type restartable struct {
	t     *testing.T
	addr  string
	opts  func() *websocket.ServerOptions
	stopF func()
}

func newRestartable(t *testing.T, opts func() *websocket.ServerOptions) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &restartable{t: t, addr: ln.Addr().String(), opts: opts}
	r.serve(ln)
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.addr + "/rpc" }

func (r *restartable) serve(ln net.Listener) {
	srv, err := websocket.NewServer(r.opts())
	if err != nil {
		r.t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = hs.Serve(ln)
	}()
	r.stopF = func() {
		_ = srv.Close()
		_ = hs.Close()
		wg.Wait()
	}
}

func (r *restartable) stop() {
	if r.stopF != nil {
		r.stopF()
		r.stopF = nil
	}
}

func (r *restartable) start() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("listening again on %s: %v", r.addr, err)
	}
	r.serve(ln)
}

func nextEvent(t *testing.T, events <-chan string) string {
	t.Helper()
	select {
	case e := <-events:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return ""
	}
}

// TestReconnectAfterRestart: the reconnecting client fails the call in
// flight at the drop with ErrDisconnected, lets a new call wait for the
// link up to its deadline, comes back after the server restarts on the
// same address, keeps serving the server with the same handler, and tells
// the application each time the link comes and goes.
func TestReconnectAfterRestart(t *testing.T) {
	var (
		peers   rpc.PeerSet
		started = make(chan struct{}, 1)
	)
	srv := newRestartable(t, func() *websocket.ServerOptions {
		r := serverRouter(t)
		mustRegister(t, r, "wait", rpc.Func(func(ctx context.Context, _ struct{}) (any, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		}))
		return &websocket.ServerOptions{Handler: r, Peers: &peers}
	})

	events := make(chan string, 10)
	client, err := websocket.NewReconnecting(srv.url(), &websocket.ReconnectOptions{
		DialOptions:  websocket.DialOptions{Handler: clientRouter(t)},
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   100 * time.Millisecond,
		OnConnect:    func(*rpc.Peer) { events <- "connect" },
		OnDisconnect: func(err error) { events <- "disconnect: " + err.Error() },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx := testCtx(t)

	// A first call waits for the first link.
	var sum int
	if err := client.Call(ctx, "add", []int{1, 2}, &sum); err != nil || sum != 3 {
		t.Fatalf("first call: %d, %v", sum, err)
	}
	if e := nextEvent(t, events); e != "connect" {
		t.Fatalf("event %q", e)
	}

	// The server goes away while a call is in flight.
	inFlight := make(chan error, 1)
	go func() { inFlight <- client.Call(ctx, "wait", struct{}{}, nil) }()
	<-started
	srv.stop()
	err = <-inFlight
	if !is(err, websocket.ErrDisconnected, rpc.ErrConnectionLost) {
		t.Fatalf("call in flight at the drop: %v", err)
	}
	if e := nextEvent(t, events); !strings.HasPrefix(e, "disconnect: ") {
		t.Fatalf("event %q", e)
	}

	// While down, a call waits up to its deadline and says why it gave up.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = client.Call(short, "add", []int{1}, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last dial error") {
		t.Fatalf("call while down: %v", err)
	}
	if client.Current() != nil {
		t.Fatal("Current is not nil while down")
	}

	// A call made while down goes through once the server is back.
	waiting := make(chan error, 1)
	go func() { waiting <- client.Call(ctx, "add", []int{20, 22}, &sum) }()
	srv.start() // whether the call is waiting yet or comes after, it goes through
	if err := <-waiting; err != nil || sum != 42 {
		t.Fatalf("call across the restart: %d, %v", sum, err)
	}
	if e := nextEvent(t, events); e != "connect" {
		t.Fatalf("event %q", e)
	}

	// The handler given once serves the new link too.
	server := onlyPeer(t, &peers)
	if n, err := rpc.Call[int](ctx, server, "mul", []int{6, 7}); err != nil || n != 42 {
		t.Fatalf("server -> client after reconnecting: %d, %v", n, err)
	}
	p, err := client.Peer(ctx)
	if err != nil || p != client.Current() {
		t.Fatalf("Peer: %v", err)
	}
	if err := client.Notify(ctx, "add", []int{1}); err != nil {
		t.Fatal(err)
	}

	// Close ends everything; the last link's end is reported.
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	<-client.Done()
	if e := nextEvent(t, events); !strings.HasPrefix(e, "disconnect: ") {
		t.Fatalf("event %q", e)
	}
	if err := client.Call(ctx, "add", []int{1}, nil); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

// TestReconnectCloseWhileWaiting: Close releases calls waiting for a link
// that never comes.
func TestReconnectCloseWhileWaiting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now

	client, err := websocket.NewReconnecting("ws://"+addr+"/", &websocket.ReconnectOptions{MinBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- client.Call(context.Background(), "add", []int{1}, nil) }()
	_ = client.Close() // whether the call is waiting yet or comes after, it fails
	select {
	case err := <-waiting:
		if !errors.Is(err, rpc.ErrClosed) {
			t.Fatalf("waiting call: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the waiting call")
	}
	_ = client.Close() // idempotent
}

// TestReconnectCloseFromCallback: a callback may close the client.
func TestReconnectCloseFromCallback(t *testing.T) {
	ts := startServer(t, nil)
	var client *websocket.ReconnectingClient
	ready := make(chan struct{})
	client, err := websocket.NewReconnecting(ts.url, &websocket.ReconnectOptions{
		OnConnect: func(*rpc.Peer) {
			<-ready
			_ = client.Close()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	close(ready)
	select {
	case <-client.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Close from OnConnect did not stop the client")
	}
}
