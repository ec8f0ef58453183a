package hub_test

import (
	"slices"
	"strings"
	"testing"

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
