// Package json is the JSON codec: JSON-RPC 2.0 exactly as
// https://www.jsonrpc.org/specification writes it, so that any JSON-RPC 2.0
// client or server can talk to a Parley peer.
//
// The envelope is written in the specification's own layout, for example
//
//	{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}
//
// and read with a scanner that validates the whole message by
// encoding/json's rules and then takes params, result and error data as
// sub-slices of the input, so that decoding an envelope costs no
// allocation beyond the method name. Params and results are encoded and
// decoded as encoding/json does: the common shapes (numbers, strings,
// slices, maps, plain structs...) by the codec itself, faster, and any
// other type by encoding/json.
//
// Unknown members of a message are ignored; a repeated envelope member
// makes the message invalid (-32600), since encoding/json and other
// libraries disagree on which copy would win.
//
// # Limits
//
// Decode checks the whole message for well-formedness without recursion,
// so nesting of any depth costs it no stack (encoding/json's own Valid
// stops at 10,000 levels; here depth is a limit on values, below), and
// refuses a batch of more than [codec.MaxBatch] messages with
// [codec.ErrBatch]. [Codec.Unmarshal] refuses a value nested deeper than
// [codec.MaxDepth] levels or holding more than [codec.MaxItems] array
// elements and object members in all, with [codec.ErrDepth] or
// [codec.ErrItems], before decoding anything, whatever Go type it goes
// into: these are the limits of package codec, the same for every codec.
package json

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/parleyrpc/parley/codec"
)

// Codec is the JSON-RPC 2.0 JSON codec. Its zero value is ready to use.
type Codec struct{}

var (
	_ codec.Codec         = Codec{}
	_ codec.ValueAppender = Codec{}
)

// Name returns "json".
func (Codec) Name() string { return "json" }

// Binary returns false: JSON messages are UTF-8 text.
func (Codec) Binary() bool { return false }

// Marshal returns the JSON encoding of v: the bytes [Codec.AppendValue]
// appends, as encoding/json's Encoder writes them with HTML escaping off.
func (Codec) Marshal(v any) ([]byte, error) {
	buf := marshalBuffers.Get().(*[]byte)
	b, err := Codec{}.AppendValue((*buf)[:0], v)
	var out []byte
	if err == nil {
		out = append(make([]byte, 0, len(b)), b...) // one allocation, of the size needed
	}
	if cap(b) <= 64<<10 { // do not keep one huge value's buffer alive in the pool
		*buf = b
		marshalBuffers.Put(buf)
	}
	return out, err
}

// marshalBuffers are Marshal's scratch buffers.
var marshalBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Unmarshal decodes data into v as encoding/json's Unmarshal does, with
// the same results and errors, after refusing a value beyond the decoding
// limits ([codec.ErrDepth], [codec.ErrItems]). The common shapes of params
// and results are decoded without encoding/json (see unmarshal.go).
func (Codec) Unmarshal(data []byte, v any) error {
	switch err := check(data, true); err {
	case nil:
		if u, ok := v.(stdjson.Unmarshaler); ok && nonNilPointer(v) {
			// What encoding/json does with a top-level Unmarshaler, less
			// its second pass over the value: the value's bytes without
			// the white space around them, and the method's error as it
			// is. rpc.Raw results (relayed undecoded) take this path.
			return u.UnmarshalJSON(trimSpace(data))
		}
		if fastUnmarshal(data, v) {
			return nil
		}
	case errSyntax:
		// encoding/json says what is wrong, and where.
	default:
		return err
	}
	return stdjson.Unmarshal(data, v)
}

// encoder is a reusable encoding/json Encoder writing into its own buffer.
type encoder struct {
	buf bytes.Buffer
	enc *stdjson.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := new(encoder)
	e.enc = stdjson.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// AppendValue appends the JSON encoding of v to dst, as encoding/json's
// Encoder writes it with HTML escaping off: <, > and & are written as they
// are, not as \u003c, \u003e and \u0026, which only matter to JSON pasted
// into HTML, never to a JSON-RPC peer. (Marshal writes the same bytes.)
// Unlike Marshal it makes no allocation of its own once warmed up; the
// common shapes are written without encoding/json (see marshal.go).
//
// Where encoding/json itself is built with GOEXPERIMENT=jsonv2, the one
// difference in its output is that it writes a string's invalid UTF-8 as
// the character U+FFFD, where the fast path writes the escape \ufffd:
// the same string to any JSON reader.
func (Codec) AppendValue(dst []byte, v any) ([]byte, error) {
	if out, ok := fastAppend(dst, v); ok {
		return out, nil
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return dst, err
	}
	b := e.buf.Bytes()
	// Encode ends every value with a newline; drop it.
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if e.buf.Cap() > 64<<10 {
		// Do not keep one huge message's buffer alive in the pool.
		e.buf = bytes.Buffer{}
	}
	return append(dst, b...), nil
}

// Decode parses one message or a batch. See [codec.Codec.Decode].
func (Codec) Decode(dst []codec.Message, data []byte) ([]codec.Message, bool, error) {
	if !valid(data) {
		return dst, false, fmt.Errorf("%w: invalid JSON", codec.ErrParse)
	}
	s := scanner{data: data}
	s.skipSpace()
	switch s.peek() {
	case '[':
		s.pos++
		s.skipSpace()
		if s.peek() == ']' {
			return dst, true, nil
		}
		n0 := len(dst)
		for {
			if len(dst)-n0 == codec.MaxBatch {
				clear(dst[n0:])
				return dst[:n0], true, codec.ErrBatch
			}
			s.skipSpace()
			dst = append(dst, s.message())
			s.skipSpace()
			if s.next() == ']' {
				return dst, true, nil
			}
			// The separator was a comma: valid vouches for it.
		}
	default:
		return append(dst, s.message()), false, nil
	}
}

// invalid reports an invalid message, keeping the id if one was read.
func invalid(id codec.ID, reason string) codec.Message {
	return codec.Message{ID: id, Invalid: reason}
}

// message reads one value that should be a JSON-RPC message object.
func (s *scanner) message() codec.Message {
	if s.peek() != '{' {
		s.skipValue()
		return invalid(codec.ID{}, "message must be an object")
	}
	s.pos++
	var (
		m                                       codec.Message
		seen                                    uint8
		version, hasMethod, hasResult, hasError bool
		hasID                                   bool
		reason                                  string
	)
	const (
		seenVersion = 1 << iota
		seenMethod
		seenParams
		seenID
		seenResult
		seenError
	)
	mark := func(bit uint8) {
		if seen&bit != 0 && reason == "" {
			reason = "repeated member"
		}
		seen |= bit
	}
	for {
		s.skipSpace()
		if s.peek() == '}' {
			s.pos++
			break
		}
		key := s.stringToken()
		s.skipSpace()
		s.pos++ // ':'
		s.skipSpace()
		start := s.pos
		kind := s.peek()
		s.skipValue()
		val := s.data[start:s.pos]
		switch string(key) { // no allocation: the compiler compares in place
		case `"jsonrpc"`:
			mark(seenVersion)
			version = string(val) == `"2.0"`
		case `"method"`:
			mark(seenMethod)
			hasMethod = true
			if kind != '"' || len(val) == 2 {
				if reason == "" {
					reason = "method must be a non-empty string"
				}
			} else {
				m.Method = unquote(val)
			}
		case `"params"`:
			mark(seenParams)
			if kind != '[' && kind != '{' {
				if reason == "" {
					reason = "params must be an array or an object"
				}
			} else {
				m.Params = val
			}
		case `"id"`:
			first := seen&seenID == 0
			mark(seenID)
			hasID = true
			if !first {
				break // the answer echoes the first id, as the CBOR codec does
			}
			switch {
			case kind == '"':
				m.ID = codec.String(unquote(val))
			case kind == 'n':
				m.ID = codec.Null()
			case kind == '-' || (kind >= '0' && kind <= '9'):
				m.ID = number(val)
			default:
				if reason == "" {
					reason = "id must be a string, a number or null"
				}
			}
		case `"result"`:
			mark(seenResult)
			hasResult = true
			m.Result = val
		case `"error"`:
			mark(seenError)
			hasError = true
			e, ok := errorObject(val)
			if !ok && reason == "" {
				reason = "error must be an object with an integer code and a string message"
			}
			m.Error = e
		default:
			if bytes.IndexByte(key, '\\') >= 0 && reason == "" {
				// An escaped key might spell an envelope member; resolve it
				// the slow way rather than ignore it.
				var k string
				if stdjson.Unmarshal(key, &k) == nil {
					switch k {
					case "jsonrpc", "method", "params", "id", "result", "error":
						reason = "escaped member names are not supported"
						hasMethod = hasMethod || k == "method"
					}
				}
			}
		}
		s.skipSpace()
		if s.peek() == ',' {
			s.pos++
		}
	}
	switch {
	case reason != "":
	case !version:
		reason = `jsonrpc must be "2.0"`
	case hasMethod && (hasResult || hasError):
		reason = "a request cannot carry result or error"
	case hasMethod:
		// A valid request or notification.
	case !hasID:
		reason = "a response must have an id"
	case hasResult == hasError:
		reason = "a response must have exactly one of result and error"
	}
	if reason != "" {
		bad := invalid(m.ID, reason)
		bad.HadMethod = hasMethod
		return bad
	}
	return m
}

// errorObject reads the error member of a response, val, which valid has
// checked: an object with an integer code, a string message and any data,
// each at most once (as the CBOR codec reads it), and other members
// ignored. Data is kept as it is, whatever its depth.
func errorObject(val []byte) (*codec.Error, bool) {
	if val[0] != '{' {
		return nil, false
	}
	const (
		seenCode = 1 << iota
		seenMessage
		seenData
	)
	var (
		seen uint8
		e    codec.Error
	)
	s := scanner{data: val, pos: 1}
	for {
		s.skipSpace()
		if s.peek() == '}' {
			break
		}
		key := s.stringToken()
		s.skipSpace()
		s.pos++ // ':'
		s.skipSpace()
		start := s.pos
		kind := s.peek()
		s.skipValue()
		v := val[start:s.pos]
		var bit uint8
		switch string(key) {
		case `"code"`:
			bit = seenCode
			code, ok := smallInt(v)
			if !ok {
				// An integer of 19 digits, or not an integer at all.
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil {
					return nil, false
				}
				code = n
			}
			e.Code = code
		case `"message"`:
			bit = seenMessage
			if kind != '"' {
				return nil, false
			}
			e.Message = unquote(v)
		case `"data"`:
			bit = seenData
			e.Data = v
		}
		if seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		s.skipSpace()
		if s.peek() == ',' {
			s.pos++
		}
	}
	if seen&(seenCode|seenMessage) != seenCode|seenMessage {
		return nil, false
	}
	return &e, true
}

// number turns a JSON number token into an id without allocating for
// integers that fit an int64.
func number(tok []byte) codec.ID {
	if n, ok := smallInt(tok); ok {
		return codec.Int(n)
	}
	return codec.Number(string(tok)) // a fraction, an exponent, or maybe too big: kept as written
}

// nonNilPointer reports whether v is a pointer that is not nil, the only
// target encoding/json decodes into.
func nonNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && !rv.IsNil()
}

// trimSpace cuts JSON white space from both ends of b.
func trimSpace(b []byte) []byte {
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	for len(b) > 0 && space(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && space(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
