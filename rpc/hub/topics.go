package hub

import (
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// Topics are NATS-style subjects: tokens separated by dots, such as
// "chat.room1.messages". A subscription names a pattern: a topic, or one
// with wildcards as whole tokens: "*" matches exactly one token
// ("chat.*.messages"), ">" as the last token matches one or more
// ("chat.>"). So an exact subscription is a plain topic, a prefix one ends
// in ">", and a wildcard one has "*" tokens. A publish names a topic, with
// no wildcards. Tokens are not empty and hold no space, tab, newline or
// dot, and "*" and ">" only as whole tokens of a pattern; names are valid
// UTF-8 of at most Options.MaxNameLength bytes.

// checkName checks a topic (wild false) or a pattern (wild true).
func (h *Hub) checkName(name string, wild bool) error {
	what := "topic"
	if wild {
		what = "topic pattern"
	}
	if name == "" {
		return invalid("empty %s", what)
	}
	if len(name) > h.opts.MaxNameLength {
		return invalid("%s of %d bytes exceeds the limit of %d", what, len(name), h.opts.MaxNameLength)
	}
	if !utf8.ValidString(name) {
		return invalid("%s is not valid UTF-8", what)
	}
	if strings.ContainsAny(name, " \t\r\n") {
		return invalid("%s %q holds white space", what, clip(name))
	}
	for rest := name; ; {
		tok, tail, more := strings.Cut(rest, ".")
		switch {
		case tok == "":
			return invalid("%s %q has an empty token", what, clip(name))
		case strings.ContainsAny(tok, "*>") && !wild:
			return invalid("topic %q holds a wildcard: publish to a topic, subscribe to patterns", clip(name))
		case tok == ">" && more:
			return invalid("pattern %q: '>' must be the last token", clip(name))
		case tok != "*" && tok != ">" && strings.ContainsAny(tok, "*>") && wild:
			return invalid("pattern %q: wildcards must be whole tokens", clip(name))
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

// node is one token of the topic tree; the root is the hub's.
type node struct {
	children map[string]*node
	subs     map[*member]struct{} // subscribers of the pattern ending here
}

// find returns the node of pattern, making it if make is set.
func (n *node) find(pattern string, create bool) *node {
	for rest := pattern; ; {
		tok, tail, more := strings.Cut(rest, ".")
		c := n.children[tok]
		if c == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = map[string]*node{}
			}
			c = &node{}
			n.children[tok] = c
		}
		n = c
		if !more {
			return n
		}
		rest = tail
	}
}

// prune removes the empty nodes along pattern.
func (n *node) prune(pattern string) {
	tok, tail, more := strings.Cut(pattern, ".")
	c := n.children[tok]
	if c == nil {
		return
	}
	if more {
		c.prune(tail)
	}
	if len(c.subs) == 0 && len(c.children) == 0 {
		delete(n.children, tok)
	}
}

// match calls f with the subscribers of every pattern that matches the
// topic whose tokens are toks.
func (n *node) match(toks []string, f func(map[*member]struct{})) {
	if len(toks) == 0 {
		if len(n.subs) != 0 {
			f(n.subs)
		}
		return
	}
	if c := n.children[">"]; c != nil && len(c.subs) != 0 {
		f(c.subs)
	}
	if c := n.children[toks[0]]; c != nil {
		c.match(toks[1:], f)
	}
	if c := n.children["*"]; c != nil {
		c.match(toks[1:], f)
	}
}

// Subscribe subscribes p to the topics that pattern matches. It is
// idempotent. It fails for an invalid pattern, a peer that has ended, or
// a bound reached ([CodeLimit]).
func (h *Hub) Subscribe(p *rpc.Peer, pattern string) error {
	if err := h.checkName(pattern, true); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := h.memberOf(p)
	if err != nil {
		return err
	}
	if _, ok := m.topics[pattern]; ok {
		return nil
	}
	if len(m.topics) >= h.opts.MaxTopicsPerPeer {
		return limit("this peer is subscribed to %d topic patterns already, the limit", len(m.topics))
	}
	n := h.topics.find(pattern, true)
	if len(n.subs) >= h.opts.MaxSubscribersPerTopic {
		return limit("topic pattern %q has %d subscribers already, the limit", clip(pattern), len(n.subs))
	}
	if n.subs == nil {
		n.subs = map[*member]struct{}{}
	}
	n.subs[m] = struct{}{}
	m.topics[pattern] = struct{}{}
	if len(n.subs) == 1 && h.opts.Cluster != nil {
		h.opts.Cluster.Subscribed(pattern)
	}
	return nil
}

// Unsubscribe ends p's subscription to pattern, and reports whether there
// was one.
func (h *Hub) Unsubscribe(p *rpc.Peer, pattern string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.members[p]
	if m == nil {
		return false
	}
	return h.unsubscribeLocked(m, pattern)
}

func (h *Hub) unsubscribeLocked(m *member, pattern string) bool {
	if _, ok := m.topics[pattern]; !ok {
		return false
	}
	delete(m.topics, pattern)
	n := h.topics.find(pattern, false)
	if n == nil {
		return true
	}
	delete(n.subs, m)
	if len(n.subs) == 0 {
		h.topics.prune(pattern)
		if h.opts.Cluster != nil {
			h.opts.Cluster.Unsubscribed(pattern)
		}
	}
	return true
}

// Subscribers returns the peers subscribed to exactly pattern, in no
// particular order.
func (h *Hub) Subscribers(pattern string) []*rpc.Peer {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := h.topics.find(pattern, false)
	if n == nil {
		return nil
	}
	peers := make([]*rpc.Peer, 0, len(n.subs))
	for m := range n.subs {
		peers = append(peers, m.peer)
	}
	return peers
}

// SubscriberCount returns the number of peers subscribed to exactly
// pattern.
func (h *Hub) SubscriberCount(pattern string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if n := h.topics.find(pattern, false); n != nil {
		return len(n.subs)
	}
	return 0
}

// Matching returns the peers a publish to topic would reach: those with a
// subscription whose pattern matches it, each once.
func (h *Hub) Matching(topic string) []*rpc.Peer {
	if h.checkName(topic, false) != nil {
		return nil
	}
	var peers []*rpc.Peer
	h.mu.RLock()
	for _, m := range h.matchLocked(topic, nil) {
		peers = append(peers, m.peer)
	}
	h.mu.RUnlock()
	return peers
}

// Topics returns the patterns p is subscribed to.
func (h *Hub) Topics(p *rpc.Peer) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := h.members[p]
	if m == nil {
		return nil
	}
	out := make([]string, 0, len(m.topics))
	for t := range m.topics {
		out = append(out, t)
	}
	return out
}

// matchLocked returns the members subscribed to a pattern matching topic,
// each once, except exclude.
func (h *Hub) matchLocked(topic string, exclude *member) []*member {
	var toks [16]string
	ts := toks[:0]
	for rest := topic; ; {
		tok, tail, more := strings.Cut(rest, ".")
		ts = append(ts, tok)
		if !more {
			break
		}
		rest = tail
	}
	var (
		out   []*member
		first map[*member]struct{}
		seen  map[*member]struct{}
		sets  int
	)
	h.topics.match(ts, func(s map[*member]struct{}) {
		sets++
		switch sets {
		case 1:
			first = s
			return
		case 2:
			seen = make(map[*member]struct{}, len(first)+len(s))
			for m := range first {
				seen[m] = struct{}{}
			}
		}
		for m := range s {
			seen[m] = struct{}{}
		}
	})
	switch {
	case sets == 1:
		out = make([]*member, 0, len(first))
		for m := range first {
			if m != exclude {
				out = append(out, m)
			}
		}
	case sets > 1:
		out = make([]*member, 0, len(seen))
		for m := range seen {
			if m != exclude {
				out = append(out, m)
			}
		}
	}
	return out
}

// EventMethod is the notification that carries an event to a subscriber,
// with params {"topic": T, "data": D}: the topic it was published to and
// the data the publisher gave (null when none).
const EventMethod = "hub.event"

// eventParams are the params of EventMethod.
type eventParams struct {
	Topic string `json:"topic"`
	Data  any    `json:"data"`
}

// Publish sends data to every subscriber of a pattern matching topic (each
// once) as a [EventMethod] notification, and returns how many events it
// queued. data may be any value the subscribers' codecs encode, or an
// [rpc.Raw]; it is encoded once per codec, not per subscriber. Publish
// never waits for a subscriber: see [Options.MaxQueuedEvents]. With a
// Cluster, the publish goes to the other nodes too.
func (h *Hub) Publish(topic string, data any) (int, error) {
	return h.publish(topic, data, nil, true)
}

// PublishFrom publishes as p: p does not receive its own event unless
// includeSelf is set (WAMP's exclude_me, on by default).
func (h *Hub) PublishFrom(p *rpc.Peer, topic string, data any, includeSelf bool) (int, error) {
	var exclude *member
	if !includeSelf {
		h.mu.RLock()
		exclude = h.members[p]
		h.mu.RUnlock()
	}
	return h.publish(topic, data, exclude, true)
}

// Deliver publishes to this node's subscribers only: for a Cluster
// delivering a publish made on another node.
func (h *Hub) Deliver(topic string, data any) (int, error) {
	return h.publish(topic, data, nil, false)
}

func (h *Hub) publish(topic string, data any, exclude *member, spread bool) (int, error) {
	if err := h.checkName(topic, false); err != nil {
		return 0, err
	}
	h.mu.RLock()
	if h.closed {
		h.mu.RUnlock()
		return 0, ErrClosed
	}
	subs := h.matchLocked(topic, exclude)
	h.mu.RUnlock()
	h.published.Add(1)
	var (
		encs    [2]encoded
		enc     = encs[:0]
		n       int
		lastErr error
	)
	for _, m := range subs {
		c := m.codec
		i := indexCodec(enc, c)
		if i < 0 {
			r, err := encodeEvent(c, topic, data)
			enc = append(enc, encoded{c: c, ev: r, err: err})
			i = len(enc) - 1
		}
		if enc[i].err != nil {
			lastErr = enc[i].err
			continue
		}
		if m.q.push(enc[i].ev) {
			n++
		}
	}
	h.delivered.Add(uint64(n))
	if spread && h.opts.Cluster != nil {
		if err := h.opts.Cluster.Publish(topic, data); err != nil && lastErr == nil {
			lastErr = err
		}
	}
	return n, lastErr
}

// encoded is an event's params in one codec.
type encoded struct {
	c   codec.Codec
	ev  any // an rpc.Raw, boxed here once for all its subscribers
	err error
}

// indexCodec returns the index of c's entry in enc, or -1. Codecs of
// types that cannot be compared get an entry per subscriber.
func indexCodec(enc []encoded, c codec.Codec) int {
	if !reflect.TypeOf(c).Comparable() {
		return -1
	}
	for i := range enc {
		if reflect.TypeOf(enc[i].c) == reflect.TypeOf(c) && enc[i].c == c {
			return i
		}
	}
	return -1
}

// encodeEvent encodes an event's params with c.
func encodeEvent(c codec.Codec, topic string, data any) (rpc.Raw, error) {
	if r, ok := data.(rpc.Raw); ok {
		var err error
		if r, err = r.For(c); err != nil {
			return rpc.Raw{}, err
		}
		if c.Name() == "json" {
			// The JSON codec would hand a struct holding a Raw to
			// encoding/json, which checks the Raw's bytes all over
			// again: write the object here.
			t, err := stdjson.Marshal(topic)
			if err != nil {
				return rpc.Raw{}, err
			}
			b := make([]byte, 0, len(t)+len(r.Bytes())+20)
			b = append(append(append(b, `{"topic":`...), t...), `,"data":`...)
			b = append(append(b, r.Bytes()...), '}')
			return rpc.NewRaw(c, b), nil
		}
		data = r
	}
	r, err := rpc.EncodeRaw(c, eventParams{Topic: topic, Data: data})
	if err != nil {
		return rpc.Raw{}, fmt.Errorf("hub: encoding an event for %s: %w", topic, err)
	}
	return r, nil
}
