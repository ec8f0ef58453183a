package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	pjson "github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// matches is the reference reading of a pattern, token by token.
func matches(pattern, topic string) bool {
	p, t := strings.Split(pattern, "."), strings.Split(topic, ".")
	for i, tok := range p {
		switch {
		case tok == ">":
			return len(t) > i
		case i >= len(t):
			return false
		case tok != "*" && tok != t[i]:
			return false
		}
	}
	return len(p) == len(t)
}

// FuzzPatterns subscribes a peer to arbitrary patterns and publishes to
// arbitrary topics: names are accepted or refused without panicking, and
// a publish reaches the peer exactly when the reference reading says the
// pattern matches the topic.
func FuzzPatterns(f *testing.F) {
	for _, s := range [][2]string{
		{"a.b.c", "a.b.c"}, {"a.*.c", "a.x.c"}, {"a.>", "a.b.c.d"}, {">", "x"}, {"*", "a.b"},
		{"a..b", "a.b"}, {"a.>.b", "a.x.b"}, {"a*", "a"}, {"", ""}, {"a b", "a"}, {"é.*", "é.ü"},
	} {
		f.Add(s[0], s[1])
	}
	h, err := hub.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	a, b := rpc.Pipe()
	p, err := rpc.NewPeer(a)
	if err != nil {
		f.Fatal(err)
	}
	q, err := rpc.NewPeer(b)
	if err != nil {
		f.Fatal(err)
	}
	defer func() { p.Close(); q.Close() }()
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		subErr := h.Subscribe(p, pattern)
		defer h.Unsubscribe(p, pattern)
		got := slices.Contains(h.Matching(topic), p)
		// A valid topic is a valid pattern without wildcards.
		validTopic := !strings.ContainsAny(topic, "*>") && h.Subscribe(q, topic) == nil
		h.Unsubscribe(q, topic)
		if n, err := h.Publish(topic, nil); (err == nil) != validTopic {
			t.Fatalf("topic %q: valid %v, but Publish says %d, %v", topic, validTopic, n, err)
		}
		if subErr != nil || !validTopic {
			if got {
				t.Fatalf("pattern %q (%v), topic %q (valid %v): matched", pattern, subErr, topic, validTopic)
			}
			return
		}
		if want := matches(pattern, topic); got != want {
			t.Fatalf("pattern %q, topic %q: matched %v, want %v", pattern, topic, got, want)
		}
	})
}

// FuzzMethods calls the hub's client-facing methods with arbitrary params
// (any JSON value: malformed JSON is the peer's, covered by rpc's
// FuzzInbound): each call gets an answer, result or error, and never
// hangs or panics, and the hub goes on routing calls after it.
func FuzzMethods(f *testing.F) {
	for _, s := range []struct {
		method byte
		params string
	}{
		{0, `{"topic": "a.b"}`}, {0, `{"topic": "a.>"}`}, {0, `{"topic": ""}`}, {0, `{"topic": 5}`}, {0, `[]`},
		{1, `{"topic": "a.*"}`}, {1, `{}`},
		{2, `{"topic": "a.b", "data": [1, {"x": null}]}`}, {2, `{"topic": "a.b", "excludeMe": false}`}, {2, `{"topic": "a.*"}`},
		{3, `{"procedure": "p"}`}, {3, `{"procedure": "echo"}`}, {3, `{"procedure": "q", "policy": "roundrobin"}`}, {3, `{"procedure": "hub.x"}`},
		{4, `{"procedure": "p"}`}, {4, `{"procedure": 1}`},
		{5, `{"procedure": "echo", "params": {"a": 1}}`}, {5, `{"procedure": "echo", "params": [1, 2], "timeout": 0.001}`},
		{5, `{"procedure": "echo", "params": {"a": 1}, "partialResultToken": "t"}`}, {5, `{"procedure": "p", "params": 5}`},
		{5, `{"procedure": "echo", "timeout": -1}`}, {5, `{"procedure": "echo", "timeout": 1e400}`}, {5, `{"procedure": "nobody"}`},
		{6, `{"a": 1}`}, {0, `5`}, {5, `null`}, {2, `"s"`},
	} {
		f.Add(s.method, []byte(s.params))
	}
	methods := []string{hub.MethodSubscribe, hub.MethodUnsubscribe, hub.MethodPublish, hub.MethodRegister,
		hub.MethodUnregister, hub.MethodCall, "hub.nonesuch"}
	h, err := hub.New(nil)
	if err != nil {
		f.Fatal(err)
	}
	defer h.Close()
	server := rpc.NewRouter()
	if err := h.Mount(server); err != nil {
		f.Fatal(err)
	}
	own := rpc.NewRouter()
	own.Register("echo", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
		return req.Params(), nil
	}))
	callee := connect(f, server, own, nil)
	callee.must(f, hub.MethodRegister, map[string]string{"procedure": "echo"})
	caller := connect(f, server, nil, nil)
	f.Fuzz(func(t *testing.T, method byte, params []byte) {
		if !json.Valid(params) {
			t.Skip("not JSON")
		}
		m := methods[int(method)%len(methods)]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out rpc.Raw
		err := caller.peer.Call(ctx, m, rpc.NewRaw(pjson.Codec{}, params), &out)
		if ctx.Err() != nil {
			t.Fatalf("%s %s: no answer: %v", m, params, err)
		}
		var e *rpc.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("%s %s: %v, not a JSON-RPC error", m, params, err)
		}
		var back map[string]int
		if err := caller.peer.Call(ctx, hub.MethodCall, map[string]any{"procedure": "echo", "params": map[string]int{"probe": 1}}, &back); err != nil || back["probe"] != 1 {
			t.Fatalf("after %s %s, a routed call: %v, %v", m, params, back, err)
		}
	})
}
