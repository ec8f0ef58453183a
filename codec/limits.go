package codec

import (
	"errors"
	"strconv"
)

// Decoding limits, the same for every codec, so that a message one codec
// takes is taken by the other, and one it refuses is refused by the other
// with the same answer. They are stated on the logical message, which is
// the same whatever bytes carry it: how deeply arrays and maps nest, how
// many elements and members a value holds, how many messages a batch holds.
// (The peer's maximum message size, the other limit, is on bytes: see the
// rpc package's documentation.)
//
// [Codec.Unmarshal] applies MaxDepth and MaxItems to each params, result
// and error data value before decoding it, whatever Go type it goes into.
// [Codec.Decode] applies MaxBatch; it does not decode params, results and
// error data, so their size costs it nothing beyond one pass over the bytes.
const (
	// MaxDepth is how deeply arrays and maps (JSON objects) may nest in
	// one value: [1] is one level, [[1]] two. Decoders of any Go value
	// recurse once per level, so this bounds the stack that decoding a
	// value can take.
	MaxDepth = 128

	// MaxItems is how many array elements and map members one value may
	// hold, counted over all its levels: [1,[2,3]] holds four, {"a":[1]}
	// two. It bounds the memory that decoding a value takes: decoded into
	// any, an element costs 16 to a few hundred bytes (an interface, and
	// for each small map or array its own header and table), so a value
	// within the limit takes at most a few tens of MiB, however small its
	// encoding (a one-byte CBOR item, a three-byte JSON one).
	MaxItems = 100_000

	// MaxBatch is how many messages a batch may hold. Each message of a
	// batch costs a decoded envelope and an answer, so a batch of more is
	// refused as a whole.
	MaxBatch = 10_000
)

// ErrLimit is wrapped by the errors of [Codec.Decode] and [Codec.Unmarshal]
// for input that is well-formed but beyond one of the decoding limits
// ([MaxDepth], [MaxItems], [MaxBatch]). Unlike [ErrParse], it leaves the
// message readable: a peer answers a batch beyond MaxBatch with -32600 and
// params beyond MaxDepth or MaxItems with -32602, with the request's id.
var ErrLimit = errors.New("codec: over a decoding limit")

// The errors a codec returns for each limit; they wrap [ErrLimit]. Every
// codec returns these same errors, so that the answers a peer sends for a
// value over a limit are the same whatever the codec.
var (
	ErrDepth error = &limitError{"nesting deeper than " + strconv.Itoa(MaxDepth) + " levels"}
	ErrItems error = &limitError{"more than " + strconv.Itoa(MaxItems) + " elements and members in one value"}
	ErrBatch error = &limitError{"batch of more than " + strconv.Itoa(MaxBatch) + " messages"}
)

type limitError struct{ what string }

func (e *limitError) Error() string { return ErrLimit.Error() + ": " + e.what }
func (e *limitError) Unwrap() error { return ErrLimit }
