// Package codec defines how Parley turns JSON-RPC 2.0 envelopes into bytes
// and back.
//
// A [Codec] encodes and decodes the envelope (jsonrpc, method, params, id,
// result, error) and leaves params, results and error data as raw encoded
// bytes: they are decoded only when a handler or a caller names the Go type
// they go into, with the same codec's [Codec.Unmarshal].
//
// Two codecs ship with Parley: codec/json (JSON-RPC 2.0 exactly as the
// specification writes it) and codec/cbor (the same envelope as a CBOR map
// with text keys). A codec must be safe for concurrent use.
//
// Input comes from the network, so every codec applies the same decoding
// limits ([MaxDepth], [MaxItems], [MaxBatch]), stated on the logical
// message rather than on its bytes: swapping codecs never changes which
// messages a peer takes, nor the answers to those it refuses.
package codec

import (
	"errors"
	"strconv"
)

// Codec encodes and decodes JSON-RPC 2.0 messages.
//
// Implementations must be safe for concurrent use by many goroutines.
type Codec interface {
	// Name is the codec's short, lower-case name ("json", "cbor"). Adapters
	// use it to negotiate the codec with the other end.
	Name() string

	// Binary reports whether encoded messages may contain bytes that are not
	// valid UTF-8, so that a text-only transport must armour them.
	Binary() bool

	// Decode parses data, which holds either one message or a batch, and
	// appends the messages it holds to dst, returning the extended slice.
	// batch reports whether data was a batch (an empty batch appends none).
	//
	// Decode returns an error wrapping [ErrParse] only when data cannot be
	// parsed at all, at any depth (params included), and [ErrBatch] for
	// a batch of more than [MaxBatch] messages; a message that parses but
	// is not a valid JSON-RPC 2.0 message is returned with its Invalid
	// field set, so that a batch can be answered item by item. Params,
	// results and error data are checked for well-formedness only: the
	// limits on values ([MaxDepth], [MaxItems]) are Unmarshal's. The
	// messages may alias data: the caller must not modify data while they
	// are in use.
	Decode(dst []Message, data []byte) (msgs []Message, batch bool, err error)

	// AppendMessage appends the encoding of m to dst.
	AppendMessage(dst []byte, m *Message) ([]byte, error)

	// AppendBatch appends a batch holding the already encoded messages.
	AppendBatch(dst []byte, encoded [][]byte) []byte

	// Marshal encodes a params, result or error data value.
	Marshal(v any) ([]byte, error)

	// Unmarshal decodes a raw params, result or error data value into v,
	// which must be a non-nil pointer. A value nested deeper than
	// [MaxDepth] or holding more than [MaxItems] elements and members is
	// refused, whatever v is, with [ErrDepth] or [ErrItems], before
	// anything is decoded.
	Unmarshal(data []byte, v any) error
}

// ValueAppender is an optional ability of a [Codec]: encode a value by
// appending to a buffer the caller owns, saving the allocation that
// [Codec.Marshal] makes for its result.
type ValueAppender interface {
	AppendValue(dst []byte, v any) ([]byte, error)
}

// ErrParse is wrapped by the errors of [Codec.Decode] for input that is not
// well-formed in the codec's encoding (JSON-RPC 2.0 code -32700).
var ErrParse = errors.New("codec: parse error")

// Message is one decoded JSON-RPC 2.0 message: a request (Method set, ID
// set), a notification (Method set, ID zero) or a response (Method empty,
// Result or Error set).
type Message struct {
	// ID is the request id; the zero ID means none (a notification).
	ID ID
	// Method is the method name of a request or notification.
	Method string
	// Params holds the encoded params, or nil when there are none.
	Params []byte
	// Result holds the encoded result of a successful response.
	Result []byte
	// Error is the error object of a failed response.
	Error *Error
	// Invalid, when not empty, says why this message is not a valid
	// JSON-RPC 2.0 message; ID then holds the id if one could be read.
	Invalid string
	// HadMethod, with Invalid, says the message had a method member, so
	// it was meant as a request and its ID is one to answer. Without one,
	// it may be a broken response, whose ID names one of the receiver's
	// own calls: answering it with that id would mislead the other end.
	HadMethod bool
}

// IsRequest reports whether m is a request or a notification.
func (m *Message) IsRequest() bool { return m.Method != "" }

// IsNotification reports whether m is a request without an id.
func (m *Message) IsNotification() bool { return m.Method != "" && m.ID.IsZero() }

// Error is the JSON-RPC 2.0 error object as it travels on the wire.
type Error struct {
	Code    int64
	Message string
	// Data holds the encoded data member, or nil when it is absent.
	Data []byte
}

// ID is a JSON-RPC 2.0 request id: a number, a string or null. The zero
// value is "no id" (a notification). IDs are comparable and may be used as
// map keys; integer ids carry no allocation.
type ID struct {
	kind idKind
	n    int64
	s    string // string ids, and the literal text of non-integer numbers
}

type idKind uint8

const (
	idNone idKind = iota
	idNull
	idInt
	idNumber
	idString
)

// Int returns the integer id n.
func Int(n int64) ID { return ID{kind: idInt, n: n} }

// String returns the string id s.
func String(s string) ID { return ID{kind: idString, s: s} }

// Null returns the null id, used in error responses to requests whose id
// could not be read.
func Null() ID { return ID{kind: idNull} }

// Number returns a numeric id that is not an int64 (a fraction or a large
// integer), kept as its literal decimal text so that it is echoed verbatim.
// The text must be a valid JSON number.
func Number(literal string) ID {
	if n, err := strconv.ParseInt(literal, 10, 64); err == nil {
		return Int(n)
	}
	return ID{kind: idNumber, s: literal}
}

// IsZero reports whether id is absent.
func (id ID) IsZero() bool { return id.kind == idNone }

// IsNull reports whether id is the null id.
func (id ID) IsNull() bool { return id.kind == idNull }

// Int returns the id as an integer, and whether it is one.
func (id ID) Int() (int64, bool) { return id.n, id.kind == idInt }

// Str returns the id as a string, and whether it is a string id.
func (id ID) Str() (string, bool) { return id.s, id.kind == idString }

// NumberLiteral returns the literal text of a number id that does not fit
// an int64, and whether id is one.
func (id ID) NumberLiteral() (string, bool) { return id.s, id.kind == idNumber }

// String formats id for logs and error messages: 7, "abc", null, or ""
// when absent.
func (id ID) String() string {
	switch id.kind {
	case idNull:
		return "null"
	case idInt:
		return strconv.FormatInt(id.n, 10)
	case idNumber:
		return id.s
	case idString:
		return strconv.Quote(id.s)
	}
	return ""
}
