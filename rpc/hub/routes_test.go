package hub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// callee connects a client that serves method with h and registers it.
func callee(t testing.TB, server *rpc.Router, method string, h rpc.Handler, policy hub.Policy) *client {
	t.Helper()
	own := rpc.NewRouter()
	if err := own.Register(method, h); err != nil {
		t.Fatal(err)
	}
	c := connect(t, server, own, nil)
	c.must(t, hub.MethodRegister, map[string]any{"procedure": method, "policy": policy})
	return c
}

func routed(procedure string, params any) map[string]any {
	return map[string]any{"procedure": procedure, "params": params}
}

func TestRoutedCall(t *testing.T) {
	for _, cc := range []struct{ caller, callee string }{{"json", "json"}, {"cbor", "json"}, {"json", "cbor"}, {"cbor", "cbor"}} {
		t.Run(cc.caller+"-"+cc.callee, func(t *testing.T) {
			codecOf := map[string]codec.Codec{"json": json.Codec{}, "cbor": cbor.Codec{}}
			_, r := newHub(t, nil)
			own := rpc.NewRouter()
			own.Register("math.add", rpc.Func(func(_ context.Context, p []int) (int, error) { return p[0] + p[1], nil }))
			own.Register("math.fail", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
				return nil, &rpc.Error{Code: 42, Message: "no luck", Data: map[string]int{"tries": 3}}
			}))
			ce := connect(t, r, own, codecOf[cc.callee])
			ce.must(t, hub.MethodRegister, map[string]any{"procedure": "math.add"})
			ce.must(t, hub.MethodRegister, map[string]any{"procedure": "math.fail"})
			caller := connect(t, r, nil, codecOf[cc.caller])

			var sum int
			if err := caller.call(t, hub.MethodCall, routed("math.add", []int{2, 3}), &sum); err != nil || sum != 5 {
				t.Fatalf("math.add: %d %v", sum, err)
			}
			err := caller.call(t, hub.MethodCall, routed("math.fail", nil), nil)
			var e *rpc.Error
			if !errors.As(err, &e) || e.Code != 42 || e.Message != "no luck" {
				t.Fatalf("math.fail: %v", err)
			}
			var data map[string]int
			if d, ok := e.Data.(rpc.Raw); !ok || d.Decode(&data) != nil || data["tries"] != 3 {
				t.Fatalf("error data %v", e.Data)
			}
			if err := caller.call(t, hub.MethodCall, routed("math.mul", nil), nil); !errors.Is(err, hub.ErrNoSuchProcedure) {
				t.Fatalf("unregistered: %v", err)
			}
		})
	}
}

func TestGoCodeCallsAClientProcedure(t *testing.T) {
	h, r := newHub(t, nil)
	callee(t, r, "greet", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
		return "hello " + p.Name, nil
	}), "")
	got := ""
	if err := h.Call(testCtx(t), "greet", struct{ Name string }{"go"}, &got); err != nil || got != "hello go" {
		t.Fatalf("%q %v", got, err)
	}
	if err := h.Call(testCtx(t), "nobody", nil, nil); !errors.Is(err, hub.ErrNoSuchProcedure) {
		t.Fatalf("%v", err)
	}
}

func TestInvocationPolicies(t *testing.T) {
	_, r := newHub(t, nil)
	who := func(name string) rpc.Handler {
		return rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return name, nil })
	}
	// Single: the second registrant is refused.
	callee(t, r, "one", who("first"), hub.Single)
	other := connect(t, r, nil, nil)
	if err := other.call(t, hub.MethodRegister, map[string]any{"procedure": "one"}, nil); !errors.Is(err, hub.ErrProcedureExists) {
		t.Fatalf("second single registrant: %v", err)
	}
	// A different policy is refused too.
	callee(t, r, "rr", who("a"), hub.RoundRobin)
	if err := other.call(t, hub.MethodRegister, map[string]any{"procedure": "rr", "policy": "first"}, nil); !errors.Is(err, hub.ErrProcedureExists) {
		t.Fatalf("policy mismatch: %v", err)
	}
	if err := other.call(t, hub.MethodRegister, map[string]any{"procedure": "x", "policy": "sometimes"}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("unknown policy: %v", err)
	}
	callee(t, r, "rr", who("b"), hub.RoundRobin)
	callee(t, r, "rr", who("c"), hub.RoundRobin)
	caller := connect(t, r, nil, nil)
	var got []string
	for range 6 {
		var s string
		if err := caller.call(t, hub.MethodCall, routed("rr", nil), &s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if strings.Join(got, "") != "abcabc" {
		t.Fatalf("round robin: %v", got)
	}
	// First and Last.
	for _, pol := range []hub.Policy{hub.First, hub.Last} {
		name := "p" + string(pol)
		callee(t, r, name, who("old"), pol)
		callee(t, r, name, who("new"), pol)
		var s string
		if err := caller.call(t, hub.MethodCall, routed(name, nil), &s); err != nil {
			t.Fatal(err)
		}
		if want := map[hub.Policy]string{hub.First: "old", hub.Last: "new"}[pol]; s != want {
			t.Fatalf("%s: got %s", pol, s)
		}
	}
	// Random reaches every registrant sooner or later.
	for _, n := range []string{"x", "y"} {
		callee(t, r, "rand", who(n), hub.Random)
	}
	seen := map[string]bool{}
	for i := 0; i < 200 && len(seen) < 2; i++ {
		var s string
		caller.call(t, hub.MethodCall, routed("rand", nil), &s)
		seen[s] = true
	}
	if len(seen) != 2 {
		t.Fatalf("random: %v", seen)
	}
}

// blocker is a handler that reports its start and how its context ended.
type blocker struct {
	started chan struct{}
	ended   chan error
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 10), ended: make(chan error, 10)}
}

func (b *blocker) Handle(ctx context.Context, _ *rpc.Request) (any, error) {
	b.started <- struct{}{}
	<-ctx.Done()
	b.ended <- ctx.Err()
	return nil, ctx.Err()
}

func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func TestCallerCancellationReachesCallee(t *testing.T) {
	_, r := newHub(t, nil)
	b := newBlocker()
	callee(t, r, "slow", b, "")
	caller := connect(t, r, nil, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() { done <- caller.peer.Call(ctx, hub.MethodCall, routed("slow", nil), nil) }()
	wait(t, b.started, "the callee to start")
	cancel()
	if err := wait(t, done, "the caller"); !errors.Is(err, context.Canceled) {
		t.Fatalf("caller: %v", err)
	}
	if err := wait(t, b.ended, "the callee's cancellation"); !errors.Is(err, context.Canceled) {
		t.Fatalf("callee: %v", err)
	}
}

func TestCallerDisconnectCancelsCallee(t *testing.T) {
	_, r := newHub(t, nil)
	b := newBlocker()
	callee(t, r, "slow", b, "")
	caller := connect(t, r, nil, nil)
	go caller.peer.Call(context.Background(), hub.MethodCall, routed("slow", nil), nil)
	wait(t, b.started, "the callee to start")
	caller.peer.Close()
	wait(t, b.ended, "the callee's cancellation")
}

func TestCalleeDisconnectEndsPendingCalls(t *testing.T) {
	h, r := newHub(t, nil)
	b := newBlocker()
	ce := callee(t, r, "slow", b, "")
	caller := connect(t, r, nil, nil)
	const n = 5
	errs := make(chan error, n+1)
	for range n {
		go func() { errs <- caller.call(t, hub.MethodCall, routed("slow", nil), nil) }()
	}
	go func() { errs <- h.Call(testCtx(t), "slow", nil, nil) }()
	for range n + 1 {
		wait(t, b.started, "the callee to start")
	}
	start := time.Now()
	ce.peer.Close()
	for range n + 1 {
		if err := wait(t, errs, "a caller"); !errors.Is(err, hub.ErrCalleeGone) {
			t.Fatalf("caller: %v", err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("callers ended %v after the callee left", d)
	}
}

func TestCallTimeout(t *testing.T) {
	_, r := newHub(t, nil)
	b := newBlocker()
	callee(t, r, "slow", b, "")
	caller := connect(t, r, nil, nil)
	err := caller.call(t, hub.MethodCall, map[string]any{"procedure": "slow", "timeout": 30}, nil)
	if !errors.Is(err, hub.ErrTimeout) {
		t.Fatalf("%v", err)
	}
	wait(t, b.started, "the callee")
	wait(t, b.ended, "the callee's cancellation")
	for _, bad := range []any{0, -1, "soon"} {
		if err := caller.call(t, hub.MethodCall, map[string]any{"procedure": "slow", "timeout": bad}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Fatalf("timeout %v: %v", bad, err)
		}
	}
	// The hub's default applies to calls with none.
	h2, r2 := newHub(t, &hub.Options{CallTimeout: 30 * time.Millisecond})
	b2 := newBlocker()
	callee(t, r2, "slow", b2, "")
	if err := h2.Call(testCtx(t), "slow", nil, nil); !errors.Is(err, hub.ErrTimeout) {
		t.Fatalf("default timeout: %v", err)
	}
}

func TestProgressThroughRoutedCall(t *testing.T) {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		t.Run(c.Name(), func(t *testing.T) {
			h, r := newHub(t, nil)
			callee(t, r, "count", rpc.Func(func(ctx context.Context, p struct {
				N int `json:"n"`
			}) (string, error) {
				for i := 1; i <= p.N; i++ {
					if err := rpc.Progress(ctx, i); err != nil {
						return "", err
					}
				}
				return fmt.Sprintf("counted to %d, progress %v", p.N, rpc.WantsProgress(ctx)), nil
			}), "")
			caller := connect(t, r, nil, c)
			var got []int
			var res string
			err := rpc.CallWithProgress(testCtx(t), caller.peer, hub.MethodCall, routed("count", map[string]int{"n": 20}), &res, func(v rpc.Raw) {
				var n int
				if err := v.Decode(&n); err != nil {
					t.Error(err)
				}
				got = append(got, n)
			})
			if err != nil || res != "counted to 20, progress true" {
				t.Fatalf("%q %v", res, err)
			}
			if len(got) != 20 {
				t.Fatalf("partial results %v", got)
			}
			for i, n := range got {
				if n != i+1 {
					t.Fatalf("out of order: %v", got)
				}
			}
			// A caller that did not ask: the callee is not asked either.
			if err := caller.call(t, hub.MethodCall, routed("count", map[string]int{"n": 3}), &res); err != nil || res != "counted to 3, progress false" {
				t.Fatalf("%q %v", res, err)
			}
			// Go code on the server asks too.
			got = nil
			if err := h.CallWithProgress(testCtx(t), "count", map[string]int{"n": 3}, &res, func(v rpc.Raw) { got = append(got, 0) }); err != nil || len(got) != 3 {
				t.Fatalf("%v %v", got, err)
			}
		})
	}
}

func TestCancelProgressiveRoutedCall(t *testing.T) {
	_, r := newHub(t, nil)
	stopped := make(chan error, 1)
	callee(t, r, "stream", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		for i := 0; ; i++ {
			if err := rpc.Progress(ctx, i); err != nil {
				stopped <- err
				return nil, err
			}
			if ctx.Err() != nil {
				stopped <- ctx.Err()
				return nil, ctx.Err()
			}
		}
	}), "")
	caller := connect(t, r, nil, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	n := 0
	err := rpc.CallWithProgress(ctx, caller.peer, hub.MethodCall, routed("stream", map[string]any{}), nil, func(rpc.Raw) {
		if n++; n == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	wait(t, stopped, "the callee to stop")
}

func TestRegisterUnregister(t *testing.T) {
	h, r := newHub(t, nil)
	c := callee(t, r, "svc", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return 1, nil }), "")
	c.must(t, hub.MethodRegister, map[string]any{"procedure": "svc"}) // again: no change
	if n := len(h.Registrants("svc")); n != 1 {
		t.Fatalf("%d registrants", n)
	}
	for _, bad := range []string{"", "rpc.x", "$/x", "hub.x"} {
		if err := c.call(t, hub.MethodRegister, map[string]any{"procedure": bad}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
			t.Errorf("register %q: %v", bad, err)
		}
	}
	var was bool
	if err := c.call(t, hub.MethodUnregister, map[string]any{"procedure": "svc"}, &was); err != nil || !was {
		t.Fatalf("%v %v", was, err)
	}
	if len(h.Procedures()) != 0 {
		t.Fatalf("procedures left: %v", h.Procedures())
	}
	if err := h.Call(testCtx(t), "svc", nil, nil); !errors.Is(err, hub.ErrNoSuchProcedure) {
		t.Fatalf("%v", err)
	}
}

// userKey is where the handshake's identity sits on a peer.
type userKey struct{}

func TestAuthorization(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	_, r := newHub(t, &hub.Options{Authorize: func(ctx context.Context, p *rpc.Peer, a hub.Action, name string) error {
		user, _ := p.Value(userKey{}).(string)
		mu.Lock()
		asked = append(asked, fmt.Sprintf("%s %s %s", user, a, name))
		mu.Unlock()
		switch {
		case user == "admin":
			return nil
		case user == "guest" && a == hub.Call && name == "vip":
			return &rpc.Error{Code: -32099, Message: "members only"}
		case user == "guest" && strings.HasPrefix(name, "public."):
			return nil
		case user == "guest" && a == hub.Call:
			return nil
		}
		return errors.New("no")
	}})
	admin := connect(t, r, nil, nil, rpc.WithValue(userKey{}, "admin"))
	own := rpc.NewRouter()
	own.Register("vip", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return "ok", nil }))
	own.Register("public.svc", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return "ok", nil }))
	admin2 := connect(t, r, own, nil, rpc.WithValue(userKey{}, "admin"))
	admin2.must(t, hub.MethodRegister, map[string]any{"procedure": "vip"})
	guest := connect(t, r, nil, nil, rpc.WithValue(userKey{}, "guest"))

	for _, c := range []struct {
		method string
		params any
		code   rpc.Code
	}{
		{hub.MethodSubscribe, sub("private.x"), hub.CodeNotAuthorized},
		{hub.MethodSubscribe, sub("public.x"), 0},
		{hub.MethodPublish, pub("private.x", 1), hub.CodeNotAuthorized},
		{hub.MethodPublish, pub("public.x", 1), 0},
		{hub.MethodRegister, map[string]any{"procedure": "mine"}, hub.CodeNotAuthorized},
		{hub.MethodRegister, map[string]any{"procedure": "public.mine"}, 0},
		{hub.MethodCall, routed("vip", nil), -32099},
	} {
		err := guest.call(t, c.method, c.params, nil)
		var e *rpc.Error
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%s %v: %v", c.method, c.params, err)
		case c.code != 0 && (!errors.As(err, &e) || e.Code != c.code):
			t.Errorf("%s %v: %v, want code %d", c.method, c.params, err, c.code)
		}
	}
	if err := admin.call(t, hub.MethodCall, routed("vip", nil), nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(asked, "\n"), "guest subscribe private.x") || !strings.Contains(strings.Join(asked, "\n"), "admin call vip") {
		t.Fatalf("asked: %v", asked)
	}
}
