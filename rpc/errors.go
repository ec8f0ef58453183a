package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/parleyrpc/parley/codec"
)

// Code is a JSON-RPC 2.0 error code.
type Code int64

// The standard JSON-RPC 2.0 codes, and the few more that Parley uses.
const (
	CodeParseError     Code = -32700 // the message could not be parsed
	CodeInvalidRequest Code = -32600 // not a valid request object
	CodeMethodNotFound Code = -32601 // no such method
	CodeInvalidParams  Code = -32602 // params do not fit the method
	CodeInternalError  Code = -32603 // the handler panicked or the result could not be encoded

	// CodeServerError is the code of an ordinary error returned by a
	// handler; its message is the error's text.
	CodeServerError Code = -32000
	// CodeDeadlineExceeded answers a call whose handler's deadline passed.
	CodeDeadlineExceeded Code = -32001
	// CodeRequestCancelled answers a call cancelled by the caller, after
	// the Language Server Protocol.
	CodeRequestCancelled Code = -32800
)

// String names the code, or gives its number.
func (c Code) String() string {
	switch c {
	case CodeParseError:
		return "parse error"
	case CodeInvalidRequest:
		return "invalid request"
	case CodeMethodNotFound:
		return "method not found"
	case CodeInvalidParams:
		return "invalid params"
	case CodeInternalError:
		return "internal error"
	case CodeServerError:
		return "server error"
	case CodeDeadlineExceeded:
		return "deadline exceeded"
	case CodeRequestCancelled:
		return "request cancelled"
	}
	return "code " + strconv.FormatInt(int64(c), 10)
}

// Error is a JSON-RPC 2.0 error: what a handler returns to send a chosen
// code, and what a caller receives when the other end answers with an
// error. Use [IsRemote] or [Error.Remote] to tell the two apart.
//
// errors.Is(err, target) holds for a target *Error with the same Code, so
// errors.Is(err, rpc.ErrMethodNotFound) works on any error chain.
type Error struct {
	Code    Code
	Message string
	// Data is optional detail. A handler may set any value the codec can
	// encode; in an error received from the other end it is a [Raw].
	Data any

	remote bool
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Error returns the code and message, saying whether the other end sent
// the error.
func (e *Error) Error() string {
	where := "rpc"
	if e.remote {
		where = "rpc: remote"
	}
	return fmt.Sprintf("%s error %d: %s", where, e.Code, e.Message)
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Remote reports whether the error was received from the other end.
func (e *Error) Remote() bool { return e.remote }

// IsRemote reports whether err's chain holds an *Error received from the
// other end (as opposed to one that arose here).
func IsRemote(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.remote
}

// Sentinels for errors.Is; compare codes only.
var (
	ErrParse            = &Error{Code: CodeParseError, Message: "parse error"}
	ErrInvalidRequest   = &Error{Code: CodeInvalidRequest, Message: "invalid request"}
	ErrMethodNotFound   = &Error{Code: CodeMethodNotFound, Message: "method not found"}
	ErrInvalidParams    = &Error{Code: CodeInvalidParams, Message: "invalid params"}
	ErrInternal         = &Error{Code: CodeInternalError, Message: "internal error"}
	ErrRequestCancelled = &Error{Code: CodeRequestCancelled, Message: "request cancelled"}
)

// ErrInvalidResponse ends a call whose answer arrived but was not a valid
// JSON-RPC 2.0 response (a response object missing a member, say).
var ErrInvalidResponse = errors.New("rpc: invalid response")

// lifecycleError is a peer lifecycle error; it wraps net.ErrClosed so that
// code written for net.Conn recognises it.
type lifecycleError string

func (e lifecycleError) Error() string { return string(e) }
func (e lifecycleError) Unwrap() error { return net.ErrClosed }

var (
	// ErrClosed is returned by calls made after the peer was closed by
	// [Peer.Close]. It wraps net.ErrClosed.
	ErrClosed error = lifecycleError("rpc: peer closed")

	// ErrConnectionLost ends calls that were waiting for an answer when the
	// link dropped, and calls made after that. The error returned wraps
	// both ErrConnectionLost and the transport's cause. It wraps
	// net.ErrClosed. The call may or may not have run on the other end.
	ErrConnectionLost error = lifecycleError("rpc: connection lost")
)

// wireError turns what a handler returned into the wire error object.
func wireError(c codec.Codec, err error) *codec.Error {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, context.Canceled):
		e = &Error{Code: CodeRequestCancelled, Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		e = &Error{Code: CodeDeadlineExceeded, Message: err.Error()}
	default:
		e = &Error{Code: CodeServerError, Message: err.Error()}
	}
	w := &codec.Error{Code: int64(e.Code), Message: e.Message}
	if raw, ok := e.Data.(Raw); ok && raw.IsZero() {
		return w // no data: written as nothing, it would break the message
	}
	if e.Data != nil {
		if raw, ok := e.Data.(Raw); ok && sameCodec(raw.bind(c).codec, c) {
			w.Data = raw.data
		} else if b, err := c.Marshal(e.Data); err == nil {
			w.Data = b
		}
	}
	return w
}

// remoteError turns a wire error object into an *Error.
func remoteError(c codec.Codec, w *codec.Error) *Error {
	e := &Error{Code: Code(w.Code), Message: w.Message, remote: true}
	if w.Data != nil {
		e.Data = Raw{data: w.Data, codec: c}
	}
	return e
}

// Raw is an encoded value not decoded yet: the params of a request, or the
// data of a remote error.
type Raw struct {
	data  []byte
	codec codec.Codec
}

// Decode decodes the value into v, a non-nil pointer.
func (r Raw) Decode(v any) error {
	if r.codec == nil {
		return errors.New("rpc: decoding an empty Raw value")
	}
	return r.codec.Unmarshal(r.data, v)
}

// Bytes returns the encoded value. The caller must not modify it.
func (r Raw) Bytes() []byte { return r.data }
