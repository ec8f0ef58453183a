package hostile

import (
	"fmt"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// Case is one hostile message and the outcome it must have.
type Case struct {
	// Name says what is hostile about the message.
	Name string
	// Build returns the message: the codec's bytes, before any armour the
	// transport adds. Large messages are built only when the case runs.
	Build func() []byte
	// Want is the outcome.
	Want Want
}

// Kind is the kind of outcome a case must have.
type Kind uint8

const (
	// Answer: exactly one response (not a batch), as Want describes.
	Answer Kind = iota + 1
	// BatchAnswer: exactly one batch of responses, one per Want.Items,
	// in any order.
	BatchAnswer
	// NoAnswer: nothing at all comes back.
	NoAnswer
	// Closed: the server closes the connection (cleanly: the transport's
	// close handshake, checked by [Target.CheckClose]).
	Closed
	// Oversize: the message is over the server's maximum size; the
	// outcome depends on the transport (see [Target.OversizeCloses]):
	// Closed, or Answer -32600 with id null.
	Oversize
)

func (k Kind) String() string {
	switch k {
	case Answer:
		return "answer"
	case BatchAnswer:
		return "batch answer"
	case NoAnswer:
		return "no answer"
	case Closed:
		return "close"
	case Oversize:
		return "oversize"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Want is the outcome of a case, or of one response in a batch.
type Want struct {
	Kind Kind

	// Code is the error code of the response; zero means a result.
	Code rpc.Code
	// ID is the id the response must carry (codec.Null() for null).
	ID codec.ID
	// AnyID accepts whatever id the response carries: for messages where
	// the specification does not say which id wins.
	AnyID bool
	// Result, if not nil, is the result the response must carry: the
	// result is decoded into a new value of Result's type and compared.
	Result any
	// NullResult requires the result to be null.
	NullResult bool
	// OrCode, if not zero, accepts an error response with this code in
	// place of the result: for a call whose fate depends on timing.
	OrCode rpc.Code

	// Items are the responses of a BatchAnswer.
	Items []Want
}

// resultOf is a successful response with id and result.
func resultOf(id codec.ID, result any) Want {
	return Want{Kind: Answer, ID: id, Result: result}
}

// errorOf is an error response with code and id.
func errorOf(code rpc.Code, id codec.ID) Want {
	return Want{Kind: Answer, Code: code, ID: id}
}

var (
	noAnswer = Want{Kind: NoAnswer}
	null     = codec.Null()
)

// parseError is the answer to bytes that do not parse: -32700, id null.
var parseError = errorOf(rpc.CodeParseError, null)

// invalid is -32600 with the given id.
func invalid(id codec.ID) Want { return errorOf(rpc.CodeInvalidRequest, id) }

// batchOf is a batch answer.
func batchOf(items ...Want) Want { return Want{Kind: BatchAnswer, Items: items} }

func (w Want) String() string {
	switch w.Kind {
	case Answer:
		id := w.ID.String()
		if w.AnyID {
			id = "any"
		}
		if w.Code != 0 {
			return fmt.Sprintf("error %d, id %s", w.Code, id)
		}
		return fmt.Sprintf("result, id %s", id)
	case BatchAnswer:
		return fmt.Sprintf("batch of %d answers", len(w.Items))
	}
	return w.Kind.String()
}

// Corpus returns the hostile cases for c, which must be the JSON or the
// CBOR codec (by name). The server must use [Service.PeerOptions].
func Corpus(c codec.Codec) []Case {
	switch c.Name() {
	case "json":
		return jsonCorpus()
	case "cbor":
		return cborCorpus()
	}
	panic("hostile: no corpus for codec " + c.Name())
}

// orRefusedAsDuplicate accepts, in place of w's result, the refusal of a
// call whose id is still in use by another call in progress.
func orRefusedAsDuplicate(w Want) Want {
	w.OrCode = rpc.CodeInvalidRequest
	return w
}
