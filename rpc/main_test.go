package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// pair starts two peers joined by a pipe and closes them when t ends.
func pair(t testing.TB, left, right []rpc.Option) (*rpc.Peer, *rpc.Peer) {
	t.Helper()
	a, b := rpc.Pipe()
	pa, err := rpc.NewPeer(a, left...)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := rpc.NewPeer(b, right...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pa.Close(); pb.Close() })
	return pa, pb
}

// router builds a Router from method/handler pairs.
func router(t testing.TB, kv ...any) *rpc.Router {
	t.Helper()
	r := rpc.NewRouter()
	for i := 0; i < len(kv); i += 2 {
		if err := r.Register(kv[i].(string), kv[i+1].(rpc.Handler)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func add(_ context.Context, p []int) (int, error) {
	s := 0
	for _, v := range p {
		s += v
	}
	return s, nil
}

// rawEnd is the far end of a pipe driven by a test: it sends bytes and
// collects what the peer under test sends back.
type rawEnd struct {
	t   rpc.Transport
	got chan []byte
}

func newRaw(t testing.TB, opts ...rpc.Option) (*rpc.Peer, *rawEnd) {
	t.Helper()
	a, b := rpc.Pipe()
	p, err := rpc.NewPeer(a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawEnd{t: b, got: make(chan []byte, 1024)}
	b.Start(r)
	t.Cleanup(func() { p.Close() })
	return p, r
}

func (r *rawEnd) OnMessage(msg []byte) { r.got <- msg }
func (r *rawEnd) OnClose(error)        {}
func (r *rawEnd) MaxMessageSize() int  { return 1 << 20 }

func (r *rawEnd) send(t testing.TB, msg string) {
	t.Helper()
	if err := r.t.Send(context.Background(), []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// next returns the next message the peer sent, failing after a while.
func (r *rawEnd) next(t testing.TB) string {
	t.Helper()
	select {
	case m := <-r.got:
		return string(m)
	case <-time.After(5 * time.Second):
		t.Fatal("no message from the peer")
		return ""
	}
}

// none checks that the peer sends nothing for a little while.
func (r *rawEnd) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-r.got:
		t.Fatalf("unexpected message from the peer: %s", m)
	case <-time.After(100 * time.Millisecond):
	}
}

// testCtx is a context that ends with t, or after 10 seconds.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
