package nats

import (
	"encoding/base64"
	"strings"
)

// Subjects, under the node's prefix P (Options.Prefix, "parley" by
// default). doc.go describes what each carries.
//
//	P.peer.<id>        a call or notification to one client; every node
//	                   subscribes for each client it holds (queue group
//	                   "parley", so one holder gets each message)
//	P.all              a call or notification to every client (all nodes)
//	P.cancel           the origin of a call gave up on it (all nodes)
//	P.presence         joins and leaves, heartbeats, goodbyes (all nodes)
//	P.node.<name>.sync a request for one node's whole list of clients
//	P.node.<name>.ping a request to a node gone silent: is it there?
//
// Answers go to the reply subject the request names, under the calling
// node's own inbox.

// queueGroup is the queue group of the P.peer.<id> subscriptions: when two
// nodes hold the same id for a moment (a client moving between nodes), a
// call reaches one of them, not both.
const queueGroup = "parley"

type subjects struct {
	peer     string // P.peer. (the id follows)
	all      string
	cancel   string
	presence string
	node     string // P.node. (the node's name and .sync follow)
}

func newSubjects(prefix string) subjects {
	return subjects{
		peer:     prefix + ".peer.",
		all:      prefix + ".all",
		cancel:   prefix + ".cancel",
		presence: prefix + ".presence",
		node:     prefix + ".node.",
	}
}

// peerSubject is the subject of the client with the given id. The id goes
// in base64url (no padding) so that any id, dots, spaces and wildcards
// included, makes one valid token, and two ids never share one.
func (s subjects) peerSubject(id string) string {
	return s.peer + base64.RawURLEncoding.EncodeToString([]byte(id))
}

// peerID reads the id back from a P.peer.<id> subject.
func (s subjects) peerID(subject string) (string, bool) {
	tok, ok := strings.CutPrefix(subject, s.peer)
	if !ok {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", false
	}
	return string(b), true
}

func (s subjects) sync(node string) string { return s.node + node + ".sync" }
func (s subjects) ping(node string) string { return s.node + node + ".ping" }

// validToken reports whether s can stand as one subject token: the node's
// name and the prefix's tokens must.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// validPrefix reports whether s is one or more valid tokens joined by dots.
func validPrefix(s string) bool {
	for _, tok := range strings.Split(s, ".") {
		if !validToken(tok) {
			return false
		}
	}
	return true
}
