package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

var codecs = []codec.Codec{json.Codec{}, cbor.Codec{}}

func TestCallsBothWaysConcurrently(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			opts := []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(router(t, "add", rpc.Func(add)))}
			a, b := pair(t, opts, opts)
			var wg sync.WaitGroup
			errs := make(chan error, 400)
			for i := range 200 {
				for _, p := range []*rpc.Peer{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						got, err := rpc.Call[int](context.Background(), p, "add", []int{i, 1})
						if err == nil && got != i+1 {
							err = fmt.Errorf("add(%d, 1) = %d", i, got)
						}
						if err != nil {
							errs <- err
						}
					}()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestHandlerCallsBackIntoCaller(t *testing.T) {
	// The server's handler asks the client for a value before answering.
	server := router(t, "greet", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		name, err := rpc.Call[string](ctx, rpc.PeerFromContext(ctx), "whoami", nil)
		if err != nil {
			return nil, err
		}
		return "hello, " + name, nil
	}))
	client := router(t, "whoami", rpc.Func(func(context.Context, struct{}) (string, error) { return "ada", nil }))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, []rpc.Option{rpc.WithHandler(client), rpc.WithMaxConcurrency(1)})
	got, err := rpc.Call[string](context.Background(), c, "greet", nil)
	if err != nil || got != "hello, ada" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCancellationReachesRemoteHandler(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	server := router(t, "wait", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		cancelled <- ctx.Err()
		return nil, ctx.Err()
	}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	err := c.Call(ctx, "wait", nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("caller got %v, want context.Canceled", err)
	}
	select {
	case err := <-cancelled:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler's context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the remote handler was never cancelled")
	}
	// The peer is still usable, and the late answer was dropped quietly.
	if err := c.Call(context.Background(), "nope", nil, nil); !errors.Is(err, rpc.ErrMethodNotFound) {
		t.Fatalf("after cancel: %v", err)
	}
}

func TestDeadlineAndDefaultTimeout(t *testing.T) {
	server := router(t, "sleep", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, []rpc.Option{rpc.WithDefaultTimeout(50 * time.Millisecond)})
	if err := c.Call(context.Background(), "sleep", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("default timeout: got %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.Call(ctx, "sleep", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx deadline: got %v", err)
	}
}

func TestDroppedLinkFailsAllPendingCalls(t *testing.T) {
	block := make(chan struct{})
	var entered sync.WaitGroup
	entered.Add(50)
	server := router(t, "hang", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		entered.Done()
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil, nil
	}))
	s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	defer close(block)
	errs := make(chan error, 50)
	for range 50 {
		go func() { errs <- c.Call(context.Background(), "hang", nil, nil) }()
	}
	entered.Wait()
	s.Close() // the server side goes away mid-call
	for range 50 {
		select {
		case err := <-errs:
			if !errors.Is(err, rpc.ErrConnectionLost) || !errors.Is(err, net.ErrClosed) {
				t.Fatalf("pending call ended with %v, want ErrConnectionLost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a pending call never ended")
		}
	}
	if err := c.Wait(); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("Wait: %v", err)
	}
	if err := c.Call(context.Background(), "hang", nil, nil); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("call after the drop: %v", err)
	}
	if err := s.Wait(); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("closed side's Wait: %v", err)
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	server := router(t,
		"boom", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { panic("kaboom") }),
		"add", rpc.Func(add))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithLogger(discard)}, nil)
	err := c.Call(context.Background(), "boom", nil, nil)
	if !errors.Is(err, rpc.ErrInternal) || !rpc.IsRemote(err) {
		t.Fatalf("got %v, want a remote internal error", err)
	}
	if got, err := rpc.Call[int](context.Background(), c, "add", []int{2, 3}); err != nil || got != 5 {
		t.Fatalf("after the panic: %d, %v", got, err)
	}
}

func TestOversizeAndMalformedWhileOtherCallsComplete(t *testing.T) {
	release := make(chan struct{})
	server := router(t, "slow", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		<-release
		return "done", nil
	}))
	p, raw := newRaw(t, rpc.WithHandler(server), rpc.WithMaxMessageSize(256))
	_ = p
	raw.send(t, `{"jsonrpc": "2.0", "method": "slow", "id": 1}`)
	raw.send(t, `{"jsonrpc": "2.0", "method": "slow", "params": ["`+strings.Repeat("x", 300)+`"], "id": 2}`)
	if got, want := raw.next(t), `{"jsonrpc": "2.0", "error": {"code": -32600, "message": "message of 361 bytes exceeds the limit of 256"}, "id": null}`; got != want {
		t.Fatalf("oversize: got %s\nwant %s", got, want)
	}
	raw.send(t, `{"jsonrpc": "2.0", "method": "slow", "id": 3`)
	if got := raw.next(t); !strings.Contains(got, `"code": -32700`) || !strings.HasSuffix(got, `"id": null}`) {
		t.Fatalf("malformed: got %s", got)
	}
	raw.send(t, `{"jsonrpc": "2.0", "method": "slow", "params": "x", "id": 4}`)
	if got := raw.next(t); !strings.Contains(got, `"code": -32600`) || !strings.HasSuffix(got, `"id": 4}`) {
		t.Fatalf("bad params type: got %s", got)
	}
	close(release)
	if got, want := raw.next(t), `{"jsonrpc": "2.0", "result": "done", "id": 1}`; got != want {
		t.Fatalf("the call in flight: got %s", got)
	}
}

func TestWrongParamTypesAndUnknownMethods(t *testing.T) {
	_, c := pair(t, []rpc.Option{rpc.WithHandler(router(t, "add", rpc.Func(add)))}, nil)
	err := c.Call(context.Background(), "add", map[string]string{"a": "b"}, nil)
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code != rpc.CodeInvalidParams || !e.Remote() {
		t.Fatalf("wrong params: %v", err)
	}
	if err := c.Call(context.Background(), "missing", nil, nil); !errors.Is(err, rpc.ErrMethodNotFound) {
		t.Fatalf("unknown method: %v", err)
	}
	if err := c.Call(context.Background(), "add", 5, nil); err == nil || rpc.IsRemote(err) {
		t.Fatalf("scalar params should fail locally: %v", err)
	}
	if err := c.Call(context.Background(), "$/secret", nil, nil); err == nil || rpc.IsRemote(err) {
		t.Fatalf("reserved method should fail locally: %v", err)
	}
}

func TestErrorsCarryCodeMessageAndData(t *testing.T) {
	server := router(t,
		"teapot", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			return nil, &rpc.Error{Code: 418, Message: "I'm a teapot", Data: map[string]int{"cups": 2}}
		}),
		"plain", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
			return nil, errors.New("disk full")
		}))
	for _, cd := range codecs {
		t.Run(cd.Name(), func(t *testing.T) {
			_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithCodec(cd)}, []rpc.Option{rpc.WithCodec(cd)})
			err := c.Call(context.Background(), "teapot", nil, nil)
			var e *rpc.Error
			if !errors.As(err, &e) || e.Code != 418 || e.Message != "I'm a teapot" || !e.Remote() {
				t.Fatalf("got %#v", err)
			}
			var data map[string]int
			if raw, ok := e.Data.(rpc.Raw); !ok || raw.Decode(&data) != nil || data["cups"] != 2 {
				t.Fatalf("data: %#v", e.Data)
			}
			err = c.Call(context.Background(), "plain", nil, nil)
			if !errors.As(err, &e) || e.Code != rpc.CodeServerError || e.Message != "disk full" {
				t.Fatalf("plain error: %v", err)
			}
		})
	}
}

func TestNotificationsInArrivalOrder(t *testing.T) {
	var (
		mu  sync.Mutex
		got []int
	)
	done := make(chan struct{})
	server := router(t, "n", rpc.Func(func(ctx context.Context, p []int) (any, error) {
		mu.Lock()
		got = append(got, p[0])
		if len(got) == 1000 {
			close(done)
		}
		mu.Unlock()
		return nil, nil
	}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithMaxConcurrency(4)}, nil)
	for i := range 1000 {
		if err := c.Notify(context.Background(), "n", []int{i}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("notifications did not all arrive")
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("notification %d handled in position %d", v, i)
		}
	}
}

func TestBackpressureBoundsRunningHandlers(t *testing.T) {
	const limit = 3
	var running, peak atomic.Int32
	release := make(chan struct{})
	server := router(t, "work", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		n := running.Add(1)
		for {
			old := peak.Load()
			if n <= old || peak.CompareAndSwap(old, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		return nil, nil
	}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithMaxConcurrency(limit)}, nil)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Call(context.Background(), "work", nil, nil) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() < limit && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // give an over-limit handler the chance to start
	if p := peak.Load(); p != limit {
		t.Fatalf("peak running handlers = %d, want %d", p, limit)
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("peak running handlers = %d, limit %d", p, limit)
	}
}

func TestInterceptorsSeeBothDirectionsInOrder(t *testing.T) {
	var (
		mu  sync.Mutex
		log []string
	)
	record := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
	named := func(name string) rpc.Interceptor {
		return interceptor{
			in: func(next rpc.Handler) rpc.Handler {
				return rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
					record(name + " in " + req.Method)
					return next.Handle(ctx, req)
				})
			},
			out: func(next rpc.Invoker) rpc.Invoker {
				return func(ctx context.Context, inv rpc.Invocation) error {
					record(name + " out " + inv.Method)
					return next(ctx, inv)
				}
			},
		}
	}
	got := make(chan struct{}, 1)
	server := router(t, "add", rpc.Func(add), "note", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
		got <- struct{}{}
		return nil, nil
	}))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(server), rpc.WithInterceptors(named("s1"), named("s2"))},
		[]rpc.Option{rpc.WithInterceptors(named("c1"), named("c2"))})
	if _, err := rpc.Call[int](context.Background(), c, "add", []int{1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Notify(context.Background(), "note", nil); err != nil {
		t.Fatal(err)
	}
	<-got
	err := c.Batch(context.Background(), []rpc.BatchItem{{Method: "add", Params: []int{1}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "c1 out add,c2 out add,s1 in add,s2 in add,c1 out note,c2 out note,s1 in note,s2 in note,c1 out add,c2 out add,s1 in add,s2 in add"
	mu.Lock()
	defer mu.Unlock()
	if g := strings.Join(log, ","); g != want {
		t.Fatalf("got  %s\nwant %s", g, want)
	}
}

// interceptor is a test Interceptor built from two funcs.
type interceptor struct {
	in  func(rpc.Handler) rpc.Handler
	out func(rpc.Invoker) rpc.Invoker
}

func (i interceptor) WrapHandler(h rpc.Handler) rpc.Handler { return i.in(h) }
func (i interceptor) WrapInvoker(v rpc.Invoker) rpc.Invoker { return i.out(v) }

func TestInterceptorRefusesCall(t *testing.T) {
	denied := errors.New("not allowed")
	auth := rpc.InboundInterceptor(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			if req.Method == "admin" {
				return nil, &rpc.Error{Code: -32003, Message: denied.Error()}
			}
			return next.Handle(ctx, req)
		})
	})
	_, c := pair(t, []rpc.Option{rpc.WithHandler(router(t, "admin", rpc.Func(add))), rpc.WithInterceptors(auth)}, nil)
	items := []rpc.BatchItem{{Method: "admin", Params: []int{1}}, {Method: "admin", Params: []int{2}}}
	if err := c.Batch(context.Background(), items); err == nil {
		t.Fatal("batch items slipped past the interceptor")
	}
	for _, it := range items {
		var e *rpc.Error
		if !errors.As(it.Err, &e) || e.Code != -32003 {
			t.Fatalf("item error %v", it.Err)
		}
	}
}

func TestBatchCalls(t *testing.T) {
	for _, cd := range codecs {
		t.Run(cd.Name(), func(t *testing.T) {
			_, c := pair(t, []rpc.Option{rpc.WithCodec(cd), rpc.WithHandler(router(t, "add", rpc.Func(add)))}, []rpc.Option{rpc.WithCodec(cd)})
			var r1, r2 int
			items := []rpc.BatchItem{
				{Method: "add", Params: []int{1, 2}, Result: &r1},
				{Method: "add", Params: []int{3, 4}, Result: &r2},
				{Method: "add", Params: []int{5}, Notify: true},
				{Method: "nope"},
			}
			err := c.Batch(context.Background(), items)
			if !errors.Is(err, rpc.ErrMethodNotFound) {
				t.Fatalf("Batch returned %v", err)
			}
			if r1 != 3 || r2 != 7 || items[0].Err != nil || items[1].Err != nil || items[2].Err != nil {
				t.Fatalf("results %d %d, errors %v", r1, r2, items)
			}
		})
	}
}

func TestCloseIsPromptIdempotentAndEndsHandlers(t *testing.T) {
	handlerDone := make(chan struct{})
	started := make(chan struct{})
	server := router(t, "hang", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		close(handlerDone)
		return nil, nil
	}))
	s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "hang", nil, nil) }()
	<-started
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-handlerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context not cancelled by Close")
	}
	if err := <-errc; !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("caller: %v", err)
	}
	if err := s.Call(context.Background(), "x", nil, nil); !errors.Is(err, rpc.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
}

func TestHandlerMayCloseItsOwnPeer(t *testing.T) {
	server := router(t, "quit", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		return nil, rpc.PeerFromContext(ctx).Close()
	}))
	s, c := pair(t, []rpc.Option{rpc.WithHandler(server)}, nil)
	_ = c.Call(context.Background(), "quit", nil, nil) // answered or lost: both fine
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("peer did not end")
	}
}

func TestRouterRegistrationErrors(t *testing.T) {
	r := rpc.NewRouter()
	if err := r.Register("a", rpc.Func(add)); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"duplicate": r.Register("a", rpc.Func(add)),
		"empty":     r.Register("", rpc.Func(add)),
		"rpc.":      r.Register("rpc.discover", rpc.Func(add)),
		"$/":        r.Register("$/cancelRequest", rpc.Func(add)),
		"nil":       r.Register("b", nil),
		"not func":  r.RegisterFunc("c", 42),
		"no ctx":    r.RegisterFunc("d", func(x int) (int, error) { return x, nil }),
		"no error":  r.RegisterFunc("e", func(ctx context.Context, x int) int { return x }),
		"too many":  r.RegisterFunc("f", func(ctx context.Context, a, b int) error { return nil }),
	} {
		if err == nil {
			t.Errorf("%s: registration should fail", name)
		}
	}
}

func TestRegisterFunc(t *testing.T) {
	r := rpc.NewRouter()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.RegisterFunc("sum", func(ctx context.Context, p []int) (int, error) { return add(ctx, p) }))
	must(r.RegisterFunc("ping", func(ctx context.Context) error { return nil }))
	must(r.RegisterFunc("fail", func(ctx context.Context, p struct{ N int }) error { return fmt.Errorf("n=%d", p.N) }))
	_, c := pair(t, []rpc.Option{rpc.WithHandler(r)}, nil)
	if got, err := rpc.Call[int](context.Background(), c, "sum", []int{1, 2, 3}); err != nil || got != 6 {
		t.Fatalf("sum: %d %v", got, err)
	}
	if err := c.Call(context.Background(), "ping", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(context.Background(), "fail", map[string]int{"N": 4}, nil); err == nil || !strings.Contains(err.Error(), "n=4") {
		t.Fatalf("fail: %v", err)
	}
	if err := c.Call(context.Background(), "sum", []string{"x"}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("wrong type: %v", err)
	}
}

func TestNewPeerRejectsBadOptions(t *testing.T) {
	for _, o := range []rpc.Option{
		rpc.WithMaxMessageSize(1), rpc.WithMaxConcurrency(0), rpc.WithSendQueue(0),
		rpc.WithDefaultTimeout(-1), rpc.WithCodec(nil), rpc.WithHandler(nil), rpc.WithLogger(nil),
	} {
		a, _ := rpc.Pipe()
		if _, err := rpc.NewPeer(a, o); err == nil {
			t.Error("NewPeer accepted a bad option")
		}
	}
	if _, err := rpc.NewPeer(nil); err == nil {
		t.Error("NewPeer accepted a nil transport")
	}
}

func TestCancelFloodForUnknownIDs(t *testing.T) {
	_, raw := newRaw(t, rpc.WithHandler(router(t, "add", rpc.Func(add))))
	for i := range 1000 {
		raw.send(t, fmt.Sprintf(`{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": %d}}`, i))
	}
	raw.send(t, `{"jsonrpc": "2.0", "method": "add", "params": [1, 2], "id": 7}`)
	if got, want := raw.next(t), `{"jsonrpc": "2.0", "result": 3, "id": 7}`; got != want {
		t.Fatalf("got %s", got)
	}
}

func TestStringAndNumberIDsEchoed(t *testing.T) {
	_, raw := newRaw(t, rpc.WithHandler(router(t, "add", rpc.Func(add))))
	for _, id := range []string{`"abc"`, `12345678901234567890`, `1.5`, `-3`, `null`, `"\u00e9\n"`} {
		raw.send(t, `{"jsonrpc": "2.0", "method": "add", "params": [1], "id": `+id+`}`)
		want := `{"jsonrpc": "2.0", "result": 1, "id": ` + id + `}`
		if id == `"\u00e9\n"` {
			want = `{"jsonrpc": "2.0", "result": 1, "id": "é\n"}`
		}
		if got := raw.next(t); got != want {
			t.Errorf("id %s: got %s", id, got)
		}
	}
}

// A transport whose sends fail has lost its link, even though reading is
// stuck (here: every handler slot is held by a handler waiting on a call
// back to the other end, and the read loop waits for a slot). The peer
// must end at once, freeing everything, rather than wait for ever.
func TestFailedSendEndsThePeer(t *testing.T) {
	a, b := rpc.Pipe()
	sick := &failingSends{Transport: a}
	held := make(chan struct{}, 2)
	server := router(t, "callback", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		held <- struct{}{}
		<-ctx.Done() // waits for the peer's end
		return nil, ctx.Err()
	}))
	s, err := rpc.NewPeer(sick, rpc.WithHandler(server), rpc.WithMaxConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := rpc.NewPeer(b)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Two calls: the first takes the only slot, the second blocks the
	// server's reading.
	for range 2 {
		go c.Call(ctx, "callback", nil, nil) //nolint:errcheck // the outcome is checked on the server
	}
	<-held
	sick.fail.Store(true)
	if err := s.Notify(ctx, "anything", nil); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("notify over a failing link: %v", err)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("the peer did not end after its link failed")
	}
	if err := s.Err(); !errors.Is(err, rpc.ErrConnectionLost) || !strings.Contains(err.Error(), "link broke") {
		t.Fatalf("peer ended with %v", err)
	}
}

// failingSends is a transport whose sends fail once fail is set.
type failingSends struct {
	rpc.Transport
	fail atomic.Bool
}

func (f *failingSends) Send(ctx context.Context, msg []byte) error {
	if f.fail.Load() {
		return errors.New("link broke")
	}
	return f.Transport.Send(ctx, msg)
}

// A second call under the id of a call still in progress is refused: the
// two could not be told apart, by the caller nor by $/cancelRequest.
func TestDuplicateIDInProgressIsRefused(t *testing.T) {
	release := make(chan struct{})
	server := router(t, "block", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}))
	_, raw := newRaw(t, rpc.WithHandler(server))
	raw.send(t, `{"jsonrpc":"2.0","method":"block","id":9}`)
	raw.send(t, `{"jsonrpc":"2.0","method":"block","id":9}`)
	if got := raw.next(t); !strings.Contains(got, `"code": -32600`) || !strings.Contains(got, "in use") || !strings.HasSuffix(got, `"id": 9}`) {
		t.Fatalf("second call under id 9: %s", got)
	}
	raw.send(t, `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":9}}`)
	if got := raw.next(t); !strings.Contains(got, `"code": -32800`) {
		t.Fatalf("cancelled first call: %s", got)
	}
	// The id is free again.
	raw.send(t, `{"jsonrpc":"2.0","method":"block","id":9}`)
	close(release)
	if got := raw.next(t); !strings.Contains(got, `"result": "done"`) {
		t.Fatalf("call reusing a finished id: %s", got)
	}
}

// Error messages repeat at most a bounded part of the caller's method name.
func TestHugeMethodNameIsClipped(t *testing.T) {
	_, raw := newRaw(t, rpc.WithHandler(router(t, "add", rpc.Func(add))))
	name := strings.Repeat("é", 50000)
	raw.send(t, `{"jsonrpc":"2.0","method":"`+name+`","id":1}`)
	got := raw.next(t)
	if !strings.Contains(got, `"code": -32601`) || len(got) > 400 || !strings.Contains(got, "é…") {
		t.Fatalf("answer of %d bytes: %.300s", len(got), got)
	}
}

// A broken answer ends the call it names with ErrInvalidResponse, and is
// answered with id null: its id is ours, not one the other end would know.
func TestInvalidResponseEndsItsCall(t *testing.T) {
	p, raw := newRaw(t)
	done := make(chan error, 1)
	go func() { done <- p.Call(context.Background(), "ask", nil, nil) }()
	req := raw.next(t)
	i := strings.Index(req, `"id": `)
	id := strings.TrimSuffix(req[i+len(`"id": `):], "}")
	raw.send(t, `{"jsonrpc":"2.0","id":`+id+`}`)
	if err := <-done; !errors.Is(err, rpc.ErrInvalidResponse) || rpc.IsRemote(err) {
		t.Fatalf("call answered with a broken response: %v", err)
	}
	if got := raw.next(t); !strings.Contains(got, `"code": -32600`) || !strings.HasSuffix(got, `"id": null}`) {
		t.Fatalf("answer to the broken response: %s", got)
	}
}

func TestWithValueReachesPeerAndHandlers(t *testing.T) {
	type userKey struct{}
	left, right := rpc.Pipe()
	router := rpc.NewRouter()
	router.Register("who", rpc.Func(func(ctx context.Context, _ []int) (string, error) {
		u, _ := ctx.Value(userKey{}).(string)
		return u, nil
	}))
	server, err := rpc.NewPeer(left, rpc.WithHandler(router), rpc.WithValue(userKey{}, "ada"))
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, _ := rpc.NewPeer(right)
	defer client.Close()
	if got := server.Value(userKey{}); got != "ada" {
		t.Fatalf("Peer.Value = %v, want ada", got)
	}
	if client.Value(userKey{}) != nil {
		t.Fatal("the other peer has the value too")
	}
	who, err := rpc.Call[string](context.Background(), client, "who", []int{})
	if err != nil || who != "ada" {
		t.Fatalf("handler saw %q, %v; want ada", who, err)
	}
	if _, err := rpc.NewPeer(left, rpc.WithValue(nil, 1)); err == nil {
		t.Fatal("a nil key was accepted")
	}
}

func TestCheckOptions(t *testing.T) {
	s, err := rpc.CheckOptions(rpc.WithMaxMessageSize(4096), nil, rpc.WithSendQueue(3))
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxMessageSize != 4096 || s.SendQueue != 3 || s.MaxConcurrency != rpc.DefaultMaxConcurrency || s.Codec == nil || s.Codec.Name() != "json" {
		t.Fatalf("settings %+v", s)
	}
	if _, err := rpc.CheckOptions(rpc.WithMaxConcurrency(0)); err == nil {
		t.Fatal("WithMaxConcurrency(0) was accepted")
	}
}
