package socketio_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// TestBadPayloads: payloads that are not messages (wrong argument types,
// binary attachments, a forged attachment placeholder, invalid JSON,
// base64 or CBOR, oversize) are each answered with an error whose id is
// null, and the connection stays up; a second connect packet on the
// connection keeps its peer. The server's own "chat" event works
// alongside the adapter, and a bad argument to it, which go-socket.io
// decodes itself, drops only the client that sent it.
func TestBadPayloads(t *testing.T) {
	var mu sync.Mutex
	var connects, disconnects int
	f := newFixture(t, socketio.ServerOptions{
		Handler:            testRouter(),
		PeerOptions:        []rpc.Option{rpc.WithMaxMessageSize(1024)},
		SocketOnConnect:    func(sio.Conn) error { mu.Lock(); connects++; mu.Unlock(); return nil },
		SocketOnDisconnect: func(sio.Conn, string) { mu.Lock(); disconnects++; mu.Unlock() },
	}, func(s *sio.Server) {
		s.OnEvent("/", "chat", func(_ sio.Conn, msg string) string { return "echo: " + msg })
	})
	out := node(t, 30*time.Second, "faults.mjs", f.url)

	var sum struct {
		JSONAfter, CBORAfter, ExtraArgs, JSONStill, CBORStill outcome
		Chat                                                  string
		JSON, CBOR                                            []int
		VictimDropped                                         bool
	}
	lastJSON(t, out, &sum)
	wantJSON := []int{-32700, -32600, -32600, -32600, -32600, -32600, -32600, -32600, -32600, -32600, -32600, -32700}
	if !slices.Equal(sum.JSON, wantJSON) {
		t.Errorf("JSON connection's error answers:\n got %v\nwant %v", sum.JSON, wantJSON)
	}
	if want := []int{-32700, -32700, -32600}; !slices.Equal(sum.CBOR, want) {
		t.Errorf("CBOR connection's error answers: got %v, want %v", sum.CBOR, want)
	}
	sum.JSONAfter.is(t, "JSON call after the bad payloads", "5")
	sum.CBORAfter.is(t, "CBOR call after the bad payloads", "5")
	sum.ExtraArgs.is(t, "a message followed by an extra argument", "9")
	sum.JSONStill.is(t, "JSON call after another client was dropped", "2")
	sum.CBORStill.is(t, "CBOR call after another client was dropped", "2")
	if sum.Chat != "echo: hi" {
		t.Errorf("the server's own chat event: got %q", sum.Chat)
	}
	if !sum.VictimDropped {
		t.Error("the client that sent chat a number was not dropped")
	}
	f.waitPeers(t, 0)
	mu.Lock()
	defer mu.Unlock()
	if connects != 3 || disconnects != 3 {
		t.Errorf("the user's handlers saw %d connects and %d disconnects, want 3 and 3", connects, disconnects)
	}
}

// TestDisconnectMidCall: a client that leaves while calls are in flight
// fails only its own calls: the server's call to it ends with
// rpc.ErrConnectionLost, its own call's handler is cancelled, and the
// other client keeps answering.
func TestDisconnectMidCall(t *testing.T) {
	slowCtx := make(chan error, 1)
	r := testRouter()
	r.Register("slow", rpc.Func(func(ctx context.Context, _ []int) (int, error) {
		<-ctx.Done()
		slowCtx <- ctx.Err()
		return 0, ctx.Err()
	}))
	var names sync.Map // conn id -> name
	f := newFixture(t, socketio.ServerOptions{
		Handler: r,
		Accept: func(conn sio.Conn) ([]rpc.Option, error) {
			u := conn.URL()
			names.Store(conn.ID(), u.Query().Get("name"))
			return nil, nil
		},
	}, nil)
	nodeDone := make(chan string, 1)
	go func() { nodeDone <- node(t, 30*time.Second, "midcall.mjs", f.url) }()
	f.waitPeers(t, 2)

	var a, b *rpc.Peer
	for _, id := range f.peers.IDs() {
		p, _ := f.peers.Get(id)
		if name, _ := names.Load(id); name == "a" {
			a = p
		} else {
			b = p
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := a.Call(ctx, "hang", nil, nil)
	if !errors.Is(err, rpc.ErrConnectionLost) {
		t.Errorf("call to the client that left: got %v, want rpc.ErrConnectionLost", err)
	}
	select {
	case err := <-slowCtx:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the handler of the left client's call: ctx ended with %v", err)
		}
	case <-ctx.Done():
		t.Error("the handler of the left client's call was not cancelled")
	}
	if got, err := rpc.Call[string](ctx, b, "whoami", nil); err != nil || got != "b" {
		t.Errorf("the other client: got %q, %v", got, err)
	}
	f.waitPeers(t, 1)
	if !errors.Is(a.Err(), rpc.ErrConnectionLost) {
		t.Errorf("the left client's peer ended with %v", a.Err())
	}
	_ = f.srv.Close()
	<-nodeDone
}
