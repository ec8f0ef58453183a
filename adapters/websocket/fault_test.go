package websocket_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// startCall runs a call in the background and returns its error channel.
func startCall(ctx context.Context, p *rpc.Peer, method string, params any) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- p.Call(ctx, method, params, nil) }()
	return ch
}

func callErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not end")
		return nil
	}
}

// TestServerClosesMidCall: the server side closes the connection while a
// call is waiting for its answer; the call fails with connection lost, at
// once, and the client's peer says the other end closed it.
func TestServerClosesMidCall(t *testing.T) {
	r := serverRouter(t)
	started := make(chan struct{})
	mustRegister(t, r, "hangup", rpc.Func(func(ctx context.Context, _ struct{}) (any, error) {
		close(started)
		<-ctx.Done() // ends when the peer closes
		return nil, ctx.Err()
	}))
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: r, Peers: &peers})
	client := dial(t, ts.url, nil)
	call := startCall(testCtx(t), client, "hangup", struct{}{})
	<-started
	server := onlyPeer(t, &peers)
	_ = server.Close()

	err := callErr(t, call)
	if !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("call in flight: %v", err)
	}
	if err := waitEnd(t, client); !strings.Contains(err.Error(), "other end closed") {
		t.Fatalf("client peer: %v", err)
	}
	if err := server.Err(); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("server peer: %v", err)
	}
}

// TestAbruptDrop: the connection vanishes mid-call without a close frame
// (a crashed process, a cut cable); both ends see it at once.
func TestAbruptDrop(t *testing.T) {
	var peers rpc.PeerSet
	routes := serverRouter(t)
	started := make(chan struct{})
	mustRegister(t, routes, "wait", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	ts := startServer(t, &websocket.ServerOptions{Handler: routes, Peers: &peers, PingInterval: -1})
	px := newProxy(t, ts.http.Listener.Addr().String())
	client := dial(t, px.url(), &websocket.DialOptions{PingInterval: -1})
	server := onlyPeer(t, &peers)
	call := startCall(testCtx(t), client, "wait", nil)
	<-started // the call is in the server's hands
	px.kill()

	err := callErr(t, call)
	if !is(err, rpc.ErrConnectionLost, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "without a closing handshake") {
		t.Fatalf("call in flight: %v", err)
	}
	if err := waitEnd(t, server); !is(err, rpc.ErrConnectionLost, io.ErrUnexpectedEOF) {
		t.Fatalf("server peer: %v", err)
	}
}

// TestKeepaliveDetectsStall: the network stops carrying anything (no
// pong); each end notices within a few ping intervals and every pending
// call fails with connection lost.
func TestKeepaliveDetectsStall(t *testing.T) {
	const interval = 50 * time.Millisecond
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers, PingInterval: interval})
	px := newProxy(t, ts.http.Listener.Addr().String())
	client := dial(t, px.url(), &websocket.DialOptions{PingInterval: interval})
	server := onlyPeer(t, &peers)
	ctx := testCtx(t)
	if err := client.Call(ctx, "add", []int{1}, nil); err != nil {
		t.Fatal(err)
	}

	px.stall()
	calls := []<-chan error{
		startCall(ctx, client, "sleep", struct{ Ms int }{10_000}),
		startCall(ctx, client, "add", []int{1, 2}),
	}
	for _, call := range calls {
		if err := callErr(t, call); !is(err, rpc.ErrConnectionLost, websocket.ErrKeepaliveTimeout) {
			t.Fatalf("pending call: %v", err)
		}
	}
	if err := waitEnd(t, client); !is(err, rpc.ErrConnectionLost, websocket.ErrKeepaliveTimeout) {
		t.Fatalf("client peer: %v", err)
	}
	if err := waitEnd(t, server); !is(err, rpc.ErrConnectionLost, websocket.ErrKeepaliveTimeout) {
		t.Fatalf("server peer: %v", err)
	}
}

// TestKeepaliveUnansweredPings: a client that never reads never answers
// pings; the server drops it.
func TestKeepaliveUnansweredPings(t *testing.T) {
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Peers: &peers, PingInterval: 30 * time.Millisecond})
	ws, _, err := gorilla.DefaultDialer.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	server := onlyPeer(t, &peers)
	if err := waitEnd(t, server); !is(err, rpc.ErrConnectionLost, websocket.ErrKeepaliveTimeout) {
		t.Fatalf("server peer: %v", err)
	}
}

// TestKeepaliveKeepsHealthyLinks: an idle link whose ends answer pings
// stays up through many intervals.
func TestKeepaliveKeepsHealthyLinks(t *testing.T) {
	const interval = 40 * time.Millisecond
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers, PingInterval: interval})
	client := dial(t, ts.url, &websocket.DialOptions{PingInterval: interval})
	server := onlyPeer(t, &peers)
	time.Sleep(10 * interval)
	if err := client.Call(testCtx(t), "add", []int{1}, nil); err != nil {
		t.Fatal(err)
	}
	if client.Err() != nil || server.Err() != nil {
		t.Fatalf("link dropped: %v / %v", client.Err(), server.Err())
	}
}

// TestKeepaliveSparesBackpressure: while the server stops reading because
// all its handler slots are busy, it does not count the client's silence
// against it.
func TestKeepaliveSparesBackpressure(t *testing.T) {
	ts := startServer(t, &websocket.ServerOptions{
		Handler:      serverRouter(t),
		PeerOptions:  []rpc.Option{rpc.WithMaxConcurrency(1)},
		PingInterval: 20 * time.Millisecond,
	})
	client := dial(t, ts.url, &websocket.DialOptions{PingInterval: -1})
	ctx := testCtx(t)
	var calls []<-chan error
	for range 3 {
		calls = append(calls, startCall(ctx, client, "sleep", struct{ Ms int }{120}))
	}
	for _, c := range calls {
		if err := callErr(t, c); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOversize: a message over the receiver's limit ends that connection
// with close code 1009 and ErrMessageTooLarge on both ends; another
// client's calls, in flight at the time, are not disturbed.
func TestOversize(t *testing.T) {
	var (
		peers  rpc.PeerSet
		leaves = make(chan error, 4)
	)
	peers.OnLeave = func(_ string, _ *rpc.Peer, err error) { leaves <- err }
	ts := startServer(t, &websocket.ServerOptions{
		Handler:     serverRouter(t),
		Peers:       &peers,
		PeerOptions: []rpc.Option{rpc.WithMaxMessageSize(1024)},
	})
	ctx := testCtx(t)
	bystander := dial(t, ts.url, nil)
	slow := startCall(ctx, bystander, "sleep", struct{ Ms int }{150})

	offender := dial(t, ts.url, nil)
	big := []string{strings.Repeat("x", 4096)}
	err := offender.Call(ctx, "echo", big, nil)
	if !is(err, rpc.ErrConnectionLost, websocket.ErrMessageTooLarge) || !strings.Contains(err.Error(), "1009") {
		t.Fatalf("oversize call: %v", err)
	}
	select {
	case err := <-leaves:
		if !is(err, rpc.ErrConnectionLost, websocket.ErrMessageTooLarge) || !strings.Contains(err.Error(), "limit of 1024 bytes") {
			t.Fatalf("server peer: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the offender's server peer did not end")
	}

	if err := callErr(t, slow); err != nil {
		t.Fatalf("bystander's call in flight: %v", err)
	}
	if err := bystander.Call(ctx, "echo", []string{"small"}, nil); err != nil {
		t.Fatalf("bystander after: %v", err)
	}

	// On the wire: close code 1009.
	ws, _, err := gorilla.DefaultDialer.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(gorilla.TextMessage, []byte(`{"jsonrpc":"2.0","method":"echo","params":["`+big[0]+`"],"id":1}`))
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = ws.ReadMessage()
	if !gorilla.IsCloseError(err, gorilla.CloseMessageTooBig) {
		t.Fatalf("raw client: %v, want close 1009", err)
	}
}

// TestMalformedMessage: text that is not JSON-RPC is answered -32700 with
// id null; the connection stays up and a call in flight completes.
func TestMalformedMessage(t *testing.T) {
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t)})
	ws, _, err := gorilla.DefaultDialer.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send := func(s string) {
		if err := ws.WriteMessage(gorilla.TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"jsonrpc":"2.0","method":"sleep","params":{"Ms":100},"id":1}`)
	send(`{"jsonrpc":"2.0","method":`)
	send("\x00\xff garbage")
	send(`{"jsonrpc":"2.0","method":"add","params":[2,2],"id":2}`)

	var c json.Codec
	results := map[string]string{}
	parseErrors := 0
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 4 {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %v: %v", results, err)
		}
		msgs, _, err := c.Decode(nil, data)
		if err != nil {
			t.Fatalf("answer %s: %v", data, err)
		}
		switch m := msgs[0]; {
		case m.ID.IsNull() && m.Error != nil && m.Error.Code == -32700:
			parseErrors++
		case m.Error == nil:
			results[m.ID.String()] = string(m.Result)
		default:
			t.Fatalf("unexpected answer %s", data)
		}
	}
	if parseErrors != 2 || results["1"] != `"slept"` || results["2"] != "4" {
		t.Fatalf("%d parse errors, results %v", parseErrors, results)
	}
}

// TestMalformedFrame: bytes that break the WebSocket framing end that
// connection (close code 1002) and nothing else.
func TestMalformedFrame(t *testing.T) {
	var (
		peers  rpc.PeerSet
		leaves = make(chan error, 4)
	)
	peers.OnLeave = func(_ string, _ *rpc.Peer, err error) { leaves <- err }
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers})
	ctx := testCtx(t)
	bystander := dial(t, ts.url, nil)
	slow := startCall(ctx, bystander, "sleep", struct{ Ms int }{100})

	ws, _, err := gorilla.DefaultDialer.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// An unmasked frame with reserved opcode 3: two protocol errors.
	if _, err := ws.NetConn().Write([]byte{0x83, 0x02, 'h', 'i'}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); !gorilla.IsCloseError(err, gorilla.CloseProtocolError) {
		t.Fatalf("raw client: %v, want close 1002", err)
	}
	select {
	case err := <-leaves:
		if !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("server peer: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("the server peer did not end")
	}
	if err := callErr(t, slow); err != nil {
		t.Fatalf("bystander's call in flight: %v", err)
	}
}

// TestSlowConsumer: a client that stops reading is dropped once a write
// makes no progress for WriteTimeout, and a sender waiting for the write
// lock meanwhile gives up with its own context.
func TestSlowConsumer(t *testing.T) {
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Peers: &peers, WriteTimeout: 2 * time.Second, PingInterval: -1})
	ws, _, err := gorilla.DefaultDialer.Dial(ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close() // never read until then
	server := onlyPeer(t, &peers)

	big := map[string]string{"blob": strings.Repeat("y", 256<<10)}
	var sent atomic.Int32
	pusher := make(chan error, 1)
	go func() {
		for range 1000 { // loopback buffers hold a few MiB
			if err := server.Notify(context.Background(), "push", big); err != nil {
				pusher <- err
				return
			}
			sent.Add(1)
		}
		pusher <- errors.New("1000 notifications of 256 KiB went through a client that does not read")
	}()
	// Wait until the pusher is stuck in a write.
	for last := int32(-1); ; {
		time.Sleep(300 * time.Millisecond)
		n := sent.Load()
		if n == last {
			break
		}
		last = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := server.Notify(ctx, "small", []int{1}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send waiting behind a stuck write: %v", err)
	}
	if err := <-pusher; !is(err, rpc.ErrConnectionLost, websocket.ErrWriteTimeout) {
		t.Fatalf("stuck write: %v", err)
	}
	if err := waitEnd(t, server); !is(err, rpc.ErrConnectionLost, websocket.ErrWriteTimeout) {
		t.Fatalf("server peer: %v", err)
	}
}
