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
package json

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
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

// Marshal encodes v with encoding/json.
func (Codec) Marshal(v any) ([]byte, error) { return stdjson.Marshal(v) }

// Unmarshal decodes data into v as encoding/json's Unmarshal does, with
// the same results and errors. The common shapes of params and results
// are decoded without it, two to three times faster (see unmarshal.go).
func (Codec) Unmarshal(data []byte, v any) error {
	if fastUnmarshal(data, v) {
		return nil
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

// AppendValue appends the JSON encoding of v to dst, as encoding/json
// writes it with HTML escaping off. Unlike Marshal it makes no allocation
// of its own once warmed up; the common shapes are written without
// encoding/json (see marshal.go).
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
		for {
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

// errorObject reads the error member of a response.
func errorObject(val []byte) (*codec.Error, bool) {
	var w struct {
		Code    stdjson.RawMessage `json:"code"`
		Message *string            `json:"message"`
		Data    stdjson.RawMessage `json:"data"`
	}
	if val[0] != '{' || stdjson.Unmarshal(val, &w) != nil || len(w.Code) == 0 || w.Message == nil {
		return nil, false
	}
	// A number token, not a string holding one (which a json.Number field
	// would take).
	code, err := strconv.ParseInt(string(w.Code), 10, 64)
	if err != nil {
		return nil, false
	}
	e := &codec.Error{Code: code, Message: *w.Message}
	if len(w.Data) > 0 {
		e.Data = w.Data
	}
	return e, true
}

// number turns a JSON number token into an id without allocating for
// integers that fit an int64.
func number(tok []byte) codec.ID {
	if n, ok := smallInt(tok); ok {
		return codec.Int(n)
	}
	return codec.Number(string(tok)) // a fraction, an exponent, or maybe too big: kept as written
}
