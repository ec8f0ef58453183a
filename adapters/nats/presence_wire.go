package nats

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
)

// Presence messages are JSON (they are small and rare next to calls, and
// readable with any NATS tool). One shape serves every kind:
//
//	{"op":"delta","node":"n1","seq":7,"join":[{"id":"alice","at":1700000000000000000,"codec":"json"}],"leave":["bob"]}
//	{"op":"hb","node":"n1","seq":7,"n":42,"digest":1234,"every":1000}
//	{"op":"bye","node":"n1"}
//	{"op":"snap","node":"n1","seq":7,"join":[...],"more":true}
type presence struct {
	Op     string      `json:"op"`
	Node   string      `json:"node"`
	Seq    uint64      `json:"seq,omitempty"`
	Join   []joinEntry `json:"join,omitempty"`
	Leave  []string    `json:"leave,omitempty"`
	N      int         `json:"n,omitempty"`
	Digest uint64      `json:"digest,omitempty"`
	Every  int64       `json:"every,omitempty"` // heartbeat interval, ms
	More   bool        `json:"more,omitempty"`
}

// joinEntry is one client a node holds: its id, when the node took it
// (Unix nanoseconds, for settling an id held by two nodes) and its codec.
type joinEntry struct {
	ID    string `json:"id"`
	At    int64  `json:"at"`
	Codec string `json:"codec,omitempty"`
}

const (
	opDelta     = "delta"
	opHeartbeat = "hb"
	opBye       = "bye"
	opSnap      = "snap"
)

// decodePresence reads and checks a presence message.
func decodePresence(b []byte) (presence, error) {
	var m presence
	if err := json.Unmarshal(b, &m); err != nil {
		return presence{}, fmt.Errorf("parley nats: malformed presence message: %w", err)
	}
	switch m.Op {
	case opDelta, opHeartbeat, opBye, opSnap:
	default:
		return presence{}, fmt.Errorf("parley nats: presence message with op %q", m.Op)
	}
	if !validToken(m.Node) {
		return presence{}, fmt.Errorf("parley nats: presence message from node %q", m.Node)
	}
	return m, nil
}

// idHash is an id's share of a node's digest: the digest is the XOR of
// the hashes of the ids the node holds, so it changes by one XOR per join
// or leave, in any order.
func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
