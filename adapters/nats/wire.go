package nats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The messages that carry calls between nodes are binary: a version byte,
// an operation byte, then fields. Integers are unsigned varints (the error
// code a signed one, zig-zag), strings and byte strings a varint length
// followed by the bytes. doc.go lists every message; this file is the one
// place that writes and reads them.

const wireVersion = 1

// Operations.
const (
	opCall      = 'c' // call one client (P.peer.<id>)
	opNotify    = 'n' // notify one client (P.peer.<id>)
	opCallAll   = 'C' // call every client of every node (P.all)
	opNotifyAll = 'N' // notify every client of every node (P.all)
	opCancel    = 'x' // the origin gave up on a call (P.cancel)
	opAnswers   = 'a' // answers, to the origin's reply subject
	opRouted    = 'r' // a routed call through the hub (P.proc.<name>)
	opProgress  = 'R' // a routed call whose caller wants partial results
	opEvent     = 'p' // a hub publish (P.topic.<topic>)
)

// Answer statuses.
const (
	statusOK          = 'o' // the client answered (call) or took the notification
	statusError       = 'e' // the client answered with an error
	statusUnreachable = 'u' // no such client on this node
	statusLost        = 'l' // the client's connection ended before it answered
	statusFailed      = 'f' // anything else, with a message
	statusHubError    = 'h' // the hub on the serving node refused or ended the call (its *rpc.Error)
	statusPartial     = 'p' // a partial result of a routed call, before its answer
)

// errShort is the error for a field that runs past the end of its message
// (lengths are checked against what is left, so a corrupt length cannot ask
// for a huge allocation).
var errShort = errors.New("message too short")

// encoded is a value (params, result, error data) and the name of the codec
// that encoded it.
type encoded struct {
	codec string
	data  []byte
}

// request is a call or notification, to one client or to all.
type request struct {
	op      byte
	origin  string        // the calling node's name
	key     uint64        // the origin's number for the call, for cancelling it
	method  string        // the method to call on the client
	timeout time.Duration // the time left to the caller (0: none), whole milliseconds
	params  []encoded     // the params in one or more codecs; none: no params
}

// answer is one client's outcome.
type answer struct {
	id      string // the client's id (empty in the reply to a call to one client)
	status  byte
	code    int64   // statusError: the error's code
	message string  // statusError: the error's message; others but OK: why
	value   encoded // statusOK: the result; statusError: the error's data
}

// answers is a chunk of answers from one node. The last chunk a node sends
// for a request is final and carries the number of answers it sent in all.
type answers struct {
	node  string
	final bool
	total uint64
	list  []answer
}

// cancel names a call its origin gave up on.
type cancel struct {
	origin string
	key    uint64
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (r *request) append(b []byte) []byte {
	b = append(b, wireVersion, r.op)
	b = appendString(b, r.origin)
	b = binary.AppendUvarint(b, r.key)
	b = appendString(b, r.method)
	b = binary.AppendUvarint(b, uint64(r.timeout/time.Millisecond))
	b = binary.AppendUvarint(b, uint64(len(r.params)))
	for _, p := range r.params {
		b = appendString(b, p.codec)
		b = appendBytes(b, p.data)
	}
	return b
}

func (c cancel) append(b []byte) []byte {
	b = append(b, wireVersion, opCancel)
	b = appendString(b, c.origin)
	return binary.AppendUvarint(b, c.key)
}

// appendAnswersHeader starts a chunk of answers; answer.append adds one.
// The count of answers in the chunk is not written: the reader reads to
// the end.
func appendAnswersHeader(b []byte, node string, final bool, total uint64) []byte {
	b = append(b, wireVersion, opAnswers)
	b = appendString(b, node)
	f := byte(0)
	if final {
		f = 1
	}
	b = append(b, f)
	return binary.AppendUvarint(b, total)
}

func (a *answer) append(b []byte) []byte {
	b = appendString(b, a.id)
	b = append(b, a.status)
	switch a.status {
	case statusOK, statusPartial:
		b = appendString(b, a.value.codec)
		b = appendBytes(b, a.value.data)
	case statusError, statusHubError:
		b = binary.AppendVarint(b, a.code)
		b = appendString(b, a.message)
		b = appendString(b, a.value.codec)
		b = appendBytes(b, a.value.data)
	default:
		b = appendString(b, a.message)
	}
	return b
}

// reader reads fields from a message, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errors.New("bad varint"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errors.New("bad varint"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes returns the next byte string, aliasing the message.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) string() string { return string(r.bytes()) }

// start checks the version and returns the operation.
func (r *reader) start() byte {
	if v := r.byte(); r.err == nil && v != wireVersion {
		r.fail(fmt.Errorf("wire version %d, want %d", v, wireVersion))
	}
	return r.byte()
}

func (r *reader) done(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("trailing bytes")
	}
	if r.err != nil {
		return fmt.Errorf("parley nats: malformed %s: %w", what, r.err)
	}
	return nil
}

// maxTimeout bounds a timeout read from the wire so that the conversion
// to a Duration cannot overflow.
const maxTimeout = 24 * time.Hour

// decodeRequest reads a request. Byte strings in it alias msg.
func decodeRequest(msg []byte) (request, error) {
	r := reader{b: msg}
	var q request
	q.op = r.start()
	switch q.op {
	case opCall, opNotify, opCallAll, opNotifyAll, opRouted, opProgress:
	default:
		if r.err == nil {
			r.fail(fmt.Errorf("operation %q is not a request", q.op))
		}
	}
	q.origin = r.string()
	q.key = r.uvarint()
	q.method = r.string()
	ms := r.uvarint()
	if ms > uint64(maxTimeout/time.Millisecond) {
		ms = uint64(maxTimeout / time.Millisecond)
	}
	q.timeout = time.Duration(ms) * time.Millisecond
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each encoding takes two bytes at least
		r.fail(errShort)
	}
	for range n {
		if r.err != nil {
			break
		}
		q.params = append(q.params, encoded{codec: r.string(), data: r.bytes()})
	}
	return q, r.done("request")
}

// decodeCancel reads a cancel message.
func decodeCancel(msg []byte) (cancel, error) {
	r := reader{b: msg}
	var c cancel
	if op := r.start(); r.err == nil && op != opCancel {
		r.fail(fmt.Errorf("operation %q is not a cancel", op))
	}
	c.origin = r.string()
	c.key = r.uvarint()
	return c, r.done("cancel")
}

// decodeAnswers reads a chunk of answers. Byte strings in it alias msg.
func decodeAnswers(msg []byte) (answers, error) {
	r := reader{b: msg}
	var a answers
	if op := r.start(); r.err == nil && op != opAnswers {
		r.fail(fmt.Errorf("operation %q is not answers", op))
	}
	a.node = r.string()
	switch r.byte() {
	case 0:
	case 1:
		a.final = true
	default:
		r.fail(errors.New("bad final flag"))
	}
	a.total = r.uvarint()
	for r.err == nil && len(r.b) > 0 {
		var x answer
		x.id = r.string()
		x.status = r.byte()
		switch x.status {
		case statusOK, statusPartial:
			x.value = encoded{codec: r.string(), data: r.bytes()}
		case statusError, statusHubError:
			x.code = r.varint()
			x.message = r.string()
			x.value = encoded{codec: r.string(), data: r.bytes()}
		case statusUnreachable, statusLost, statusFailed:
			x.message = r.string()
		default:
			r.fail(fmt.Errorf("unknown answer status %q", x.status))
		}
		a.list = append(a.list, x)
	}
	return a, r.done("answers")
}

// hubEvent is a hub publish. epoch (random per node) and seq (1, 2, 3... per
// node) let a node that receives one publish through several matching
// subscriptions deliver it once.
type hubEvent struct {
	origin string
	epoch  uint64
	seq    uint64
	data   encoded // none: no data
}

func (e *hubEvent) append(b []byte) []byte {
	b = append(b, wireVersion, opEvent)
	b = appendString(b, e.origin)
	b = binary.AppendUvarint(b, e.epoch)
	b = binary.AppendUvarint(b, e.seq)
	b = appendString(b, e.data.codec)
	return appendBytes(b, e.data.data)
}

// decodeEvent reads a hub publish. Byte strings in it alias msg.
func decodeEvent(msg []byte) (hubEvent, error) {
	r := reader{b: msg}
	var e hubEvent
	if op := r.start(); r.err == nil && op != opEvent {
		r.fail(fmt.Errorf("operation %q is not an event", op))
	}
	e.origin = r.string()
	e.epoch = r.uvarint()
	e.seq = r.uvarint()
	e.data = encoded{codec: r.string(), data: r.bytes()}
	return e, r.done("event")
}
