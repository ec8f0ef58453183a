package rpc_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/rpc"
)

type greetParams struct {
	Name string `json:"name"`
}

// TestDescribe: a Router reports each method's description and the Go
// types its handler decodes and answers, for handlers made by Func and
// RegisterFunc; other handlers are listed untyped.
func TestDescribe(t *testing.T) {
	r := rpc.NewRouter()
	greet := func(_ context.Context, p greetParams) (string, error) { return "hello " + p.Name, nil }
	must(t, r.Register("greet", rpc.Described(rpc.Func(greet), "Greets someone.")))
	must(t, r.RegisterFunc("ping", func(context.Context) error { return nil }))
	must(t, r.Register("raw", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return nil, nil })))
	must(t, r.RegisterDiscover(rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return "doc", nil })))
	got := r.Describe()
	want := []rpc.MethodInfo{
		{Name: "greet", Description: "Greets someone.", Typed: true, Params: reflect.TypeFor[greetParams](), Result: reflect.TypeFor[string]()},
		{Name: "ping", Typed: true},
		{Name: "raw"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Describe() =\n%+v\nwant\n%+v", got, want)
	}
}

// TestRegisterDiscover: rpc.discover is served through RegisterDiscover
// only; Register still refuses it and every other "rpc." name.
func TestRegisterDiscover(t *testing.T) {
	r := rpc.NewRouter()
	h := rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) { return "doc", nil })
	for _, name := range []string{rpc.DiscoverMethod, "rpc.other"} {
		if err := r.Register(name, h); err == nil {
			t.Errorf("Register(%q) accepted a reserved name", name)
		}
	}
	must(t, r.RegisterDiscover(h))
	if err := r.RegisterDiscover(h); err == nil {
		t.Error("a second RegisterDiscover succeeded")
	}
	a, b := rpc.Pipe()
	server, err := rpc.NewPeer(a, rpc.WithHandler(r))
	must(t, err)
	defer server.Close()
	client, err := rpc.NewPeer(b)
	must(t, err)
	defer client.Close()
	doc, err := rpc.Call[string](context.Background(), client, rpc.DiscoverMethod, nil)
	if err != nil || doc != "doc" {
		t.Fatalf("rpc.discover: %q, %v", doc, err)
	}
}

// TestDescribedKeepsInline: a described Inline handler still runs inline
// (a call to its own peer fails at once with ErrInlineCall), whichever
// wraps the other.
func TestDescribedKeepsInline(t *testing.T) {
	callBack := rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		return nil, rpc.PeerFromContext(ctx).Call(ctx, "x", nil, nil)
	})
	r := rpc.NewRouter()
	must(t, r.Register("a", rpc.Described(rpc.Inline(callBack), "a")))
	must(t, r.Register("b", rpc.Inline(rpc.Described(callBack, "b"))))
	a, b := rpc.Pipe()
	server, err := rpc.NewPeer(a, rpc.WithHandler(r))
	must(t, err)
	defer server.Close()
	client, err := rpc.NewPeer(b)
	must(t, err)
	defer client.Close()
	for _, m := range []string{"a", "b"} {
		err := client.Call(context.Background(), m, nil, nil)
		var re *rpc.Error
		if !errors.As(err, &re) || !strings.Contains(re.Message, rpc.ErrInlineCall.Error()) {
			t.Errorf("%s: %v, want the handler's ErrInlineCall", m, err)
		}
	}
	for _, info := range r.Describe() {
		if info.Description != info.Name {
			t.Errorf("%s: description %q", info.Name, info.Description)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
