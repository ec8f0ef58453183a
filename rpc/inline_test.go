package rpc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

func TestInlineHandlerAnswersBothCodecs(t *testing.T) {
	for _, cd := range codecs {
		t.Run(cd.Name(), func(t *testing.T) {
			server := router(t, "add", rpc.Inline(rpc.Func(add)))
			_, c := pair(t, []rpc.Option{rpc.WithCodec(cd), rpc.WithHandler(server)}, []rpc.Option{rpc.WithCodec(cd)})
			for i := range 100 {
				got, err := rpc.Call[int](context.Background(), c, "add", []int{i, 1})
				if err != nil || got != i+1 {
					t.Fatalf("add(%d, 1) = %d, %v", i, got, err)
				}
			}
		})
	}
}

// An inline handler runs on the reading goroutine: until it returns, the
// next message is not even read.
func TestInlineHandlerHoldsUpTheNextMessage(t *testing.T) {
	release := make(chan struct{})
	pinged := make(chan struct{}, 1)
	server := router(t,
		"slow", rpc.Inline(rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			<-release
			return "slow", nil
		})),
		"ping", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			pinged <- struct{}{}
			return "pong", nil
		}))
	_, raw := newRaw(t, rpc.WithHandler(server))
	raw.send(t, `{"jsonrpc":"2.0","id":1,"method":"slow"}`)
	raw.send(t, `{"jsonrpc":"2.0","id":2,"method":"ping"}`)
	select {
	case <-pinged:
		t.Fatal("a message was handled while an inline handler ran")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	want := []string{`"result": "slow", "id": 1`, `"result": "pong", "id": 2`}
	for _, w := range want {
		if got := raw.next(t); !strings.Contains(got, w) {
			t.Fatalf("got %s, want it to contain %s", got, w)
		}
	}
}

// A call from an inline handler to its own peer would wait for ever for an
// answer the handler itself keeps from being read: it fails at once. A
// notification, and a call on another peer, work.
func TestInlineHandlerCannotCallItsOwnPeer(t *testing.T) {
	_, other := pair(t, []rpc.Option{rpc.WithHandler(router(t, "add", rpc.Func(add)))}, nil)
	noted := make(chan struct{}, 1)
	results := make(chan error, 3)
	server := router(t, "relay", rpc.Inline(rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		own := rpc.PeerFromContext(ctx)
		_, err := rpc.Call[int](ctx, own, "add", []int{1})
		results <- err
		results <- own.Notify(ctx, "note", nil)
		sum, err := rpc.Call[int](ctx, other, "add", []int{2, 3})
		if err == nil && sum != 5 {
			err = errors.New("wrong sum from the other peer")
		}
		results <- err
		return sum, nil
	})))
	client := router(t,
		"add", rpc.Func(add),
		"note", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			noted <- struct{}{}
			return nil, nil
		}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, []rpc.Option{rpc.WithHandler(client)})
	got, err := rpc.Call[int](context.Background(), c, "relay", nil)
	if err != nil || got != 5 {
		t.Fatalf("relay = %d, %v", got, err)
	}
	if err := <-results; !errors.Is(err, rpc.ErrInlineCall) {
		t.Fatalf("call to its own peer: %v, want ErrInlineCall", err)
	}
	if err := <-results; err != nil {
		t.Fatalf("notify from an inline handler: %v", err)
	}
	if err := <-results; err != nil {
		t.Fatalf("call to another peer: %v", err)
	}
	<-noted
	// Outside inline handlers, calls on the same peer are not refused.
	if _, err := rpc.Call[int](context.Background(), c, "relay", nil); err != nil {
		t.Fatal(err)
	}
}

func TestInlineHandlerPanicsAndBatches(t *testing.T) {
	server := router(t,
		"add", rpc.Inline(rpc.Func(add)),
		"boom", rpc.Inline(rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { panic("boom") })),
		"slowadd", rpc.Func(func(ctx context.Context, p []int) (int, error) {
			time.Sleep(time.Millisecond)
			return add(ctx, p)
		}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithLogger(discard)}, nil)
	if _, err := rpc.Call[int](context.Background(), c, "boom", nil); !errors.Is(err, rpc.ErrInternal) {
		t.Fatalf("panicking inline handler: %v", err)
	}
	var r [4]int
	items := []rpc.BatchItem{
		{Method: "add", Params: []int{1, 2}, Result: &r[0]},
		{Method: "slowadd", Params: []int{3, 4}, Result: &r[1]},
		{Method: "add", Params: []int{5}, Notify: true},
		{Method: "add", Params: []int{5, 6}, Result: &r[2]},
		{Method: "slowadd", Params: []int{7, 8}, Result: &r[3]},
	}
	if err := c.Batch(context.Background(), items); err != nil {
		t.Fatal(err)
	}
	if r != [4]int{3, 7, 11, 15} {
		t.Fatalf("batch results %v", r)
	}
}

func TestInlineWholeHandlerAndInterceptors(t *testing.T) {
	var seen []string // written only on the reading goroutine, read after the calls
	trace := rpc.InboundInterceptor(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			seen = append(seen, req.Method)
			return next.Handle(ctx, req)
		})
	})
	h := rpc.Inline(rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) { return req.Method, nil }))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(h), rpc.WithInterceptors(trace)}, nil)
	for _, m := range []string{"a", "b"} {
		if got, err := rpc.Call[string](context.Background(), c, m, nil); err != nil || got != m {
			t.Fatalf("%s = %q, %v", m, got, err)
		}
	}
	if strings.Join(seen, ",") != "a,b" {
		t.Fatalf("interceptor saw %v", seen)
	}
	if rpc.Inline(nil) != nil {
		t.Fatal("Inline(nil) should stay nil so that Register refuses it")
	}
}

// Close from an inline handler cannot wait for the transport to report its
// end: that report comes after the handler returns.
func TestInlineHandlerMayCloseItsOwnPeer(t *testing.T) {
	closed := make(chan struct{})
	server := router(t, "bye", rpc.Inline(rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		rpc.PeerFromContext(ctx).Close()
		close(closed)
		return nil, nil
	})))
	s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Call(ctx, "bye", nil, nil); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("call that closed the server: %v, want ErrConnectionLost", err)
	}
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close from an inline handler did not return")
	}
	if err := s.Wait(); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("server ended with %v", err)
	}
}
