package cbor

import (
	"bytes"
	"errors"
	"reflect"
	"sync"

	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/parleyrpc/parley/codec"
)

// Codec is the CBOR codec. Its zero value is ready to use and it is safe
// for concurrent use.
type Codec struct{}

var (
	_ codec.Codec         = Codec{}
	_ codec.ValueAppender = Codec{}
)

// decMode decodes values in Unmarshal. Its limits are codec's: it counts
// levels as check (and the JSON codec) does, and elements per array or
// map, where check counts them in all.
var decMode = mustDecMode()

// encMode encodes values in Marshal and AppendValue.
var encMode = mustEncMode()

func mustDecMode() fxcbor.DecMode {
	dm, err := fxcbor.DecOptions{
		DupMapKey:        fxcbor.DupMapKeyEnforcedAPF,
		MaxNestedLevels:  codec.MaxDepth,
		MaxArrayElements: codec.MaxItems,
		MaxMapPairs:      codec.MaxItems,
		IndefLength:      fxcbor.IndefLengthForbidden,
		TagsMd:           fxcbor.TagsForbidden,
		IntDec:           fxcbor.IntDecConvertSignedOrBigInt,
		BigIntDec:        fxcbor.BigIntDecodePointer,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		UTF8:             fxcbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic("codec/cbor: bad decoding options: " + err.Error())
	}
	return dm
}

func mustEncMode() fxcbor.UserBufferEncMode {
	em, err := fxcbor.EncOptions{
		IndefLength:   fxcbor.IndefLengthForbidden,
		TagsMd:        fxcbor.TagsForbidden,
		BigIntConvert: fxcbor.BigIntConvertShortest,
		Time:          fxcbor.TimeRFC3339Nano,
		TimeTag:       fxcbor.EncTagNone,
	}.UserBufferEncMode()
	if err != nil {
		panic("codec/cbor: bad encoding options: " + err.Error())
	}
	return em
}

// Name returns "cbor".
func (Codec) Name() string { return "cbor" }

// Binary returns true: CBOR messages are not text.
func (Codec) Binary() bool { return true }

// Marshal encodes v (a params, result or error data value) as one CBOR item.
func (Codec) Marshal(v any) ([]byte, error) {
	return encMode.Marshal(v)
}

// Unmarshal decodes the CBOR item in data into v, which must be a non-nil
// pointer. It refuses a value beyond the decoding limits
// ([codec.ErrDepth], [codec.ErrItems]) before decoding anything, and
// rejects duplicate map keys and invalid UTF-8; see the package
// documentation.
func (Codec) Unmarshal(data []byte, v any) error {
	// Every item takes a byte at least, so a value of MaxItems bytes or
	// fewer cannot hold too many: the library's own check, which runs
	// before it decodes anything and counts levels as check does, then
	// does for depth, and the small values of most calls are walked once.
	if len(data) > codec.MaxItems {
		if err := check(data, true); err != nil {
			return err
		}
	}
	err := decMode.Unmarshal(data, v)
	if err != nil {
		var deep *fxcbor.MaxNestedLevelError
		if errors.As(err, &deep) {
			return codec.ErrDepth
		}
	}
	return err
}

// maxPooledBuffer is the capacity above which an AppendValue buffer is not
// kept for reuse, so that one huge value does not pin its memory.
const maxPooledBuffer = 64 << 10

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// AppendValue appends the CBOR encoding of v to dst. It encodes into a
// pooled buffer and copies the result to dst, so that with a warm pool and
// enough capacity in dst it allocates nothing beyond what encoding v itself
// needs.
func (Codec) AppendValue(dst []byte, v any) ([]byte, error) {
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	err := encMode.MarshalToBuffer(v, buf)
	if err == nil {
		dst = append(dst, buf.Bytes()...)
	}
	if buf.Cap() <= maxPooledBuffer {
		bufferPool.Put(buf)
	}
	return dst, err
}
