package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// TestStaleCreditDropped: a server that called its client once and then
// only answers the client's calls must not keep yielding before every
// answer for the caller its first call's answer woke (which sent nothing
// after). Its first answer may yield; the yield nobody joined drops the
// credit, so the link ends balanced.
func TestStaleCreditDropped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	called := make(chan error, 1)
	routes := rpc.NewRouter()
	routes.Register("add", rpc.Func(func(_ context.Context, p [2]int) (int, error) { return p[0] + p[1], nil }))
	srv, err := NewServer(&ServerOptions{
		Handler: routes,
		OnConnect: func(p *rpc.Peer, _ *http.Request) {
			called <- p.Call(ctx, "hello", nil, nil)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Close()
	client := rpc.NewRouter()
	client.Register("hello", rpc.Func(func(context.Context, struct{}) (string, error) { return "hi", nil }))
	p, err := Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), &DialOptions{Handler: client})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := <-called; err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		var got int
		if err := p.Call(ctx, "add", [2]int{i, 1}, &got); err != nil || got != i+1 {
			t.Fatalf("call %d: %v, %d", i, err, got)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.conns) != 1 {
		t.Fatalf("%d connections", len(srv.conns))
	}
	for c := range srv.conns {
		// One more call delivered and answered: with the credit balanced,
		// its answer does not yield.
		c.gather.Delivered()
		if c.gather.Sent() > 0 {
			t.Fatal("the server still counts on a sender its own call's answer woke")
		}
	}
}
