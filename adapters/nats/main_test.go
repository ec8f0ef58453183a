package nats_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/natsserver"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startNATS starts an embedded NATS server that stops with the test.
func startNATS(t testing.TB) *natsserver.Server {
	t.Helper()
	s, err := natsserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// testHeartbeat keeps the tests' failure bounds short.
const testHeartbeat = 100 * time.Millisecond

// startNode starts a node on url over peers; it closes with the test.
func startNode(t testing.TB, url, name string, peers *rpc.PeerSet, opts *nats.Options) *nats.Node {
	t.Helper()
	var o nats.Options
	if opts != nil {
		o = *opts
	}
	o.URL, o.Name = url, name
	if o.Heartbeat == 0 {
		o.Heartbeat = testHeartbeat
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.NATS = append(o.NATS, natsgo.ReconnectWait(20*time.Millisecond), natsgo.ReconnectJitter(0, 0))
	n, err := nats.NewNode(peers, &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// client is a connected client: its server-side peer joins a node's set.
type client struct {
	id     string
	server *rpc.Peer // in the node's PeerSet
	peer   *rpc.Peer // the client's own end
}

// connect adds a client with id to peers, serving h; it closes with the
// test.
func connect(t testing.TB, peers *rpc.PeerSet, id string, h rpc.Handler, opts ...rpc.Option) client {
	t.Helper()
	a, b := rpc.Pipe()
	srv, err := rpc.NewPeer(a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := rpc.NewPeer(b, append([]rpc.Option{rpc.WithHandler(h)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cl.Close() })
	if _, err := peers.Add(id, srv); err != nil {
		t.Fatal(err)
	}
	return client{id: id, server: srv, peer: cl}
}

// whoami answers "whoami" with the client's id and echoes "echo".
func whoami(id string) rpc.Handler {
	r := rpc.NewRouter()
	r.Register("whoami", rpc.Func(func(ctx context.Context, _ any) (string, error) { return id, nil }))
	r.Register("echo", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		return req.Params(), nil
	}))
	r.Register("wait", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	r.Register("fail", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		return nil, &rpc.Error{Code: 42, Message: "no from " + id, Data: map[string]int{"n": 7}}
	}))
	return r
}

// eventually polls cond until it holds or d passes (used where the only
// event is another node's state, seen through its view).
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sees reports whether node n's view holds want ids in all.
func sees(n *nats.Node, want int) func() bool {
	return func() bool { return len(n.IDs()) == want }
}

// recorder collects presence events.
type recorder struct {
	mu     sync.Mutex
	events []string
	ch     chan string
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 1024)} }

func (r *recorder) join(node, id string)  { r.add("join " + node + " " + id) }
func (r *recorder) leave(node, id string) { r.add("leave " + node + " " + id) }
func (r *recorder) add(e string) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.ch <- e:
	default:
	}
}

// waitFor waits for event e.
func (r *recorder) waitFor(t testing.TB, e string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-r.ch:
			if got == e {
				return
			}
		case <-timeout:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no event %q; got %v", e, r.events)
		}
	}
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var _ = fmt.Sprint
