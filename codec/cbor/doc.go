// Package cbor is Parley's CBOR codec: the JSON-RPC 2.0 envelope carried as
// a CBOR (RFC 8949) map with text keys instead of a JSON object.
//
// # Wire format
//
// A message is a CBOR map whose keys are text strings:
//
//	"jsonrpc"  text "2.0"
//	"method"   text, non-empty (requests and notifications)
//	"params"   array or map (optional)
//	"id"       integer, text, float or null
//	"result"   any item (successful responses)
//	"error"    map {"code": integer, "message": text, "data": any (optional)}
//
// A batch is a CBOR array of such maps. The encoder writes definite lengths
// only, keys in the order jsonrpc, method, params, id for requests and
// jsonrpc, result or error, id for responses, integer ids as CBOR integers,
// string ids as text, the null id as null (0xf6) and other numeric ids
// (fractions, exponents) as 64-bit floats. Number ids that are integers
// outside the int64 range but inside CBOR's 64-bit integer range
// (-2^64 .. 2^64-1) are written as CBOR integers, so that they survive a
// round trip exactly. A response whose ID is zero carries a null id.
//
// Decoding reads ids back as [codec.Int] for integers that fit an int64,
// [codec.Number] with the decimal text for larger integers and for floats
// (formatted with strconv.FormatFloat(f, 'g', -1, 64)), [codec.String] and
// [codec.Null]. NaN, infinite, undefined and every other kind of id makes the
// message invalid. Unknown keys are ignored; a repeated envelope key or a key
// that is not text makes the message invalid. Text that the envelope keeps
// (method, string id, error message) must be valid UTF-8, or the message is
// invalid.
//
// Params, results and error data are not decoded by [Codec.Decode]: they are
// handed on as sub-slices of the input holding the complete encoded item,
// and decoded by [Codec.Unmarshal] into the Go type the handler or caller
// names. Go values are encoded with github.com/fxamacker/cbor/v2, which uses
// "cbor" struct tags, falls back to "json" struct tags, and otherwise the
// field name, so types written for encoding/json work unchanged. time.Time
// values are written as RFC 3339 text (like encoding/json), not as tagged
// epoch numbers.
//
// # Limits on untrusted input
//
// Input comes from the network. Decode first checks the whole message
// (params and results included) for well-formedness, and reports a
// failure as an error wrapping [codec.ErrParse]:
//
//   - byte and text strings, arrays and maps can claim no more than the
//     data that holds them, so a forged length (say 4 GiB) fails before
//     anything is allocated; the transport's message size limit bounds
//     everything else;
//   - indefinite-length strings, arrays and maps are refused: every message
//     is a complete buffer, so streaming lengths only add decoding paths and
//     ways to hide an item's size;
//   - tags (major type 6) are refused anywhere in a message. The data model
//     is JSON's: a tag has no JSON counterpart, would let a peer turn a
//     plain value into time.Time or big.Int behind the receiver's back
//     (bignums can be costly to convert), and the other codec cannot carry
//     it. The encoder refuses to write tags for the same reason (a big.Int
//     outside the 64-bit range is an encoding error).
//
// The check walks without recursion, so nesting of any depth costs it no
// stack. The decoding limits are the ones package codec states for every
// codec, counted as the JSON codec counts them: Decode refuses a batch of
// more than [codec.MaxBatch] messages with [codec.ErrBatch], and
// [Codec.Unmarshal] refuses a value nested deeper than [codec.MaxDepth]
// levels or holding more than [codec.MaxItems] array elements and map
// pairs in all, with [codec.ErrDepth] or [codec.ErrItems], before decoding
// anything.
//
// [Codec.Unmarshal] further rejects duplicate map keys (also between
// struct fields), text that is not valid UTF-8, and map keys that are not
// text when decoding into map[string]any. Decoding into a
// value of type any gives JSON-like values: map[string]any, []any, string,
// bool, float64, []byte, nil, and int64 for integers (*big.Int when an
// integer does not fit an int64).
//
// Codec is safe for concurrent use; its zero value is ready to use.
package cbor
