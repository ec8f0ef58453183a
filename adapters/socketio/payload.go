package socketio

import (
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"

	"github.com/parleyrpc/parley/internal/jsonstr"
)

// argKind says what the first argument of an rpc event was.
type argKind uint8

const (
	argMissing argKind = iota // no argument at all
	argText                   // a JSON string: the message
	argBinary                 // a socket.io binary attachment placeholder
	argOther                  // a number, object, array, boolean or null
)

// eventArg is the type the adapter declares for its event's argument.
//
// go-socket.io decodes event arguments with encoding/json into the types
// the handler declares, and drops the connection when that fails. eventArg
// implements json.Unmarshaler and accepts every JSON value, so no
// argument can fail to decode; the adapter looks at what arrived itself.
//
// It deliberately holds no parser.Buffer, and no slice, map or struct
// either: go-socket.io walks argument values by reflection to attach
// binary frames, and with a parser.Buffer reachable, a placeholder whose
// "num" is not below the packet's attachment count makes it index out of
// range on its read goroutine, which crashes the whole process. Without a
// Buffer the attachments are read and dropped, and the walk over a string
// field is free.
type eventArg struct {
	kind argKind
	text string // argText: the JSON string literal, quotes and escapes included
	what string // argOther: what it was, for the error answer
}

// UnmarshalJSON records the argument; it never fails. b is valid JSON (the
// decoder checked it), so its first byte tells the kind.
func (a *eventArg) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		a.kind, a.what = argOther, "empty"
		return nil
	}
	switch b[0] {
	case '"':
		a.kind, a.text = argText, string(b) // b belongs to the decoder: copy
	case '{':
		var ph struct {
			Placeholder bool `json:"_placeholder"`
		}
		if stdjson.Unmarshal(b, &ph) == nil && ph.Placeholder {
			a.kind = argBinary
		} else {
			a.kind, a.what = argOther, "an object"
		}
	case '[':
		a.kind, a.what = argOther, "an array"
	case 't', 'f':
		a.kind, a.what = argOther, "a boolean"
	case 'n':
		a.kind, a.what = argOther, "null"
	default:
		a.kind, a.what = argOther, "a number"
	}
	return nil
}

// rejection is a payload the transport answers itself, with a JSON-RPC
// error response whose id is null, instead of handing it to the peer.
type rejection struct {
	code    int64
	message string
}

func (r *rejection) Error() string { return r.message }

const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
)

// message turns the event argument into the bytes of one message for a
// peer whose codec is binary (base64 text) or not (the text itself), or
// says why it cannot. max is the peer's message size limit.
func (a *eventArg) message(binary bool, max int) ([]byte, *rejection) {
	switch a.kind {
	case argMissing:
		return nil, &rejection{codeInvalidRequest, "socketio: the rpc event carried no argument; send the message as a string"}
	case argBinary:
		form := "a JSON-RPC message as a string"
		if binary {
			form = "the message as base64 text"
		}
		return nil, &rejection{codeInvalidRequest, "socketio: binary attachments are not accepted on the rpc event; send " + form}
	case argOther:
		return nil, &rejection{codeInvalidRequest, fmt.Sprintf("socketio: the rpc event's argument is %s; send the message as a string", a.what)}
	}
	// Each byte of the text takes at most six bytes of the literal
	// (\u00XX), and base64 holds three bytes in four, less padding: a
	// literal this long cannot fit, so skip the copy.
	least := (len(a.text) - 2) / 6
	if binary {
		least = least/4*3 - 2
	}
	if least > max {
		return nil, &rejection{codeInvalidRequest, fmt.Sprintf("message of at least %d bytes exceeds the limit of %d", least, max)}
	}
	text, ok := jsonstr.AppendUnquoted(make([]byte, 0, len(a.text)), a.text)
	if !ok {
		return nil, &rejection{codeParseError, "socketio: the rpc event's argument is not a valid JSON string"}
	}
	if !binary {
		if len(text) > max {
			return nil, oversize(len(text), max)
		}
		return text, nil
	}
	if n := base64.StdEncoding.DecodedLen(len(text)); n-2 > max { // -2: DecodedLen counts the padding
		return nil, oversize(n-2, max)
	}
	msg := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	n, err := base64.StdEncoding.Decode(msg, text)
	if err != nil {
		return nil, &rejection{codeParseError, "socketio: the message is not valid base64: " + err.Error()}
	}
	if n > max {
		return nil, oversize(n, max)
	}
	return msg[:n:n], nil
}

func oversize(n, max int) *rejection {
	return &rejection{codeInvalidRequest, fmt.Sprintf("message of %d bytes exceeds the limit of %d", n, max)}
}
