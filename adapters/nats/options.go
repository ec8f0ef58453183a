package nats

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// Options configure a [Node]. The zero value of every field but the
// connection's means its default; NewNode copies them and never modifies
// the caller's.
type Options struct {
	// Conn is a connection to NATS that the node uses and does not close.
	// Give it, or URL: with Conn, the node takes the connection as it is
	// (its reconnect policy, credentials, TLS and handlers are yours; the
	// node adds status listeners only, not handlers).
	Conn *natsgo.Conn

	// URL is the NATS server or servers (comma-separated) to connect to
	// when Conn is nil; the node owns that connection and closes it with
	// Close. NATS lists more options (credentials, TLS, inbox prefix, ...)
	// as nats.go takes them: nats.UserCredentials, nats.Secure,
	// nats.RootCAs, nats.Token... They are applied after the node's own:
	// a name, reconnecting forever, a reconnect wait of 250 ms.
	URL  string
	NATS []natsgo.Option

	// Name is this node's name in the cluster: unique among the nodes
	// sharing a prefix, letters, digits, '-' and '_' only. Empty: a random
	// one.
	Name string

	// Prefix is the first token or tokens of every subject the node uses
	// ("parley" if empty). Nodes with different prefixes form different
	// clusters on one NATS system.
	Prefix string

	// Codec encodes the params of calls this node sends to clients on
	// other nodes when it does not know the client's codec, and its
	// results when the client's codec is neither JSON nor CBOR (nil:
	// JSON). Codecs lists every other codec the cluster's clients speak:
	// values encoded with a codec a node does not know cannot be decoded
	// there. JSON is always known.
	Codec  codec.Codec
	Codecs []codec.Codec

	// Heartbeat is how often the node tells the others it is alive, with
	// a digest of its clients (1 s if zero). A node not heard from for
	// three of its heartbeats is dropped from the others' view: its
	// clients leave it, and calls waiting on them end with
	// [ErrUnreachable].
	Heartbeat time.Duration

	// Timeout bounds a call or notification to a client on another node,
	// and CallAll or NotifyAll, when neither the context nor the call
	// gives a deadline (30 s if zero): messages between nodes are
	// delivered at most once, so an answer can be lost, and only a
	// deadline then ends the call.
	Timeout time.Duration

	// Grace is how long CallAll and NotifyAll wait, past their timeout,
	// for other nodes' answers to arrive (1 s if zero).
	Grace time.Duration

	// MaxInFlight bounds the calls and notifications from other nodes
	// that this node runs at once; beyond it they fail at once with a
	// "busy" error (10,000 if zero).
	MaxInFlight int

	// OnJoin and OnLeave, if not nil, are called when a client joins or
	// leaves any node, this one included, with the node's name. They run
	// on the node's presence goroutine, one at a time: they must not
	// block. A node dropped from the view (it stopped, or went silent)
	// has its clients leave.
	OnJoin  func(node, id string)
	OnLeave func(node, id string)

	// Logger receives what goes wrong between nodes (nil: slog.Default()).
	Logger *slog.Logger
}

const (
	defaultPrefix      = "parley"
	defaultHeartbeat   = time.Second
	defaultTimeout     = 30 * time.Second
	defaultGrace       = time.Second
	defaultMaxInFlight = 10_000
	// missedHeartbeats is how many heartbeats in a row a node may miss
	// before the others drop it.
	missedHeartbeats = 3
)

// settings are the options after defaults.
type settings struct {
	Options
	codecs map[string]codec.Codec
}

func (o *Options) settings(peers *rpc.PeerSet) (settings, error) {
	var s settings
	if o != nil {
		s.Options = *o
	}
	if peers == nil {
		return s, errors.New("parley nats: NewNode: nil PeerSet")
	}
	if s.Conn == nil && s.URL == "" {
		return s, errors.New("parley nats: NewNode: Options.Conn or Options.URL is needed")
	}
	if s.Name == "" {
		b := make([]byte, 8)
		rand.Read(b)
		s.Name = hex.EncodeToString(b)
	}
	if !validToken(s.Name) {
		return s, fmt.Errorf("parley nats: NewNode: node name %q: use letters, digits, '-' and '_'", s.Name)
	}
	if s.Prefix == "" {
		s.Prefix = defaultPrefix
	}
	if !validPrefix(s.Prefix) {
		return s, fmt.Errorf("parley nats: NewNode: prefix %q: use dot-separated tokens of letters, digits, '-' and '_'", s.Prefix)
	}
	if s.Codec == nil {
		s.Codec = json.Codec{}
	}
	s.codecs = map[string]codec.Codec{"json": json.Codec{}}
	for _, c := range append(s.Codecs, s.Codec) {
		if c == nil {
			return s, errors.New("parley nats: NewNode: nil codec in Codecs")
		}
		s.codecs[c.Name()] = c
	}
	if s.Heartbeat < 0 || s.Timeout < 0 || s.Grace < 0 || s.MaxInFlight < 0 {
		return s, errors.New("parley nats: NewNode: negative Heartbeat, Timeout, Grace or MaxInFlight")
	}
	if s.Heartbeat == 0 {
		s.Heartbeat = defaultHeartbeat
	}
	if s.Timeout == 0 {
		s.Timeout = defaultTimeout
	}
	if s.Grace == 0 {
		s.Grace = defaultGrace
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = defaultMaxInFlight
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	return s, nil
}
