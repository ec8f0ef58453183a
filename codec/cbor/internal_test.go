package cbor

import (
	"bytes"
	"math"
	"testing"

	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/parleyrpc/parley/codec"
)

func TestHalfToFloat(t *testing.T) {
	for bits := range 1 << 16 {
		var want float64
		if err := fxcbor.Unmarshal([]byte{0xf9, byte(bits >> 8), byte(bits)}, &want); err != nil {
			t.Fatal(err)
		}
		got := halfToFloat(uint16(bits))
		same := got == want && math.Signbit(got) == math.Signbit(want) ||
			math.IsNaN(got) && math.IsNaN(want)
		if !same {
			t.Fatalf("halfToFloat(%#04x) = %v, want %v", bits, got, want)
		}
	}
}

func TestAppendHeadMatchesLibrary(t *testing.T) {
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64} {
		want, _ := fxcbor.Marshal(n)
		if got := appendHead(nil, majorUint, n); !bytes.Equal(got, want) {
			t.Errorf("appendHead(%d) = %x, want %x", n, got, want)
		}
		h, next, ok := readHead(want, 0)
		if !ok || next != len(want) || h.arg != n || h.major != majorUint {
			t.Errorf("readHead(%x) = %+v, %d, %v", want, h, next, ok)
		}
	}
	for _, n := range []int64{-1, -24, -25, -256, -257, math.MinInt64} {
		want, _ := fxcbor.Marshal(n)
		if got := appendInt(nil, n); !bytes.Equal(got, want) {
			t.Errorf("appendInt(%d) = %x, want %x", n, got, want)
		}
	}
}

// FuzzScanner runs the envelope reader on input that has not been checked
// for well-formedness, which Decode never does: the reader must still not
// panic, and skip must agree with the library on where items end.
func FuzzScanner(f *testing.F) {
	f.Add([]byte{0xa1, 0x62, 'i', 'd', 0x01})
	f.Add([]byte{0x9a, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x85, 0xa3, 0xc1, 0x7b})
	f.Fuzz(func(t *testing.T, data []byte) {
		var m codec.Message
		_, _ = decodeMessage(data, 0, &m)
		_, _, _, _ = readError(data)
		_, _ = readID(data, 0)
		_, _, _ = readMethod(data, 0)
		_ = isVersion(data)
		end, ok := skip(data, 0)
		if decMode.Wellformed(data) == nil && (!ok || end != len(data)) {
			t.Fatalf("skip(%x) = %d, %v on well-formed input", data, end, ok)
		}
	})
}

// wellformedMode is the library's well-formedness check with this
// package's rules (no indefinite lengths, no tags) and no limits of its own
// that a fuzzer's input could reach.
var wellformedMode = func() fxcbor.DecMode {
	dm, err := fxcbor.DecOptions{
		MaxNestedLevels:  65535,
		MaxArrayElements: math.MaxInt32,
		MaxMapPairs:      math.MaxInt32,
		IndefLength:      fxcbor.IndefLengthForbidden,
		TagsMd:           fxcbor.TagsForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// shape walks the well-formed item at data[off:] by recursion, the plain
// way check avoids, and returns where it ends, how deeply it nests and how
// many elements and pairs it holds.
func shape(data []byte, off int) (next, depth int, items uint64) {
	h, off, _ := readHead(data, off)
	switch h.major {
	case majorBytes, majorText:
		return off + int(h.arg), 0, 0
	case majorArray, majorMap:
		n := h.arg
		if h.major == majorMap {
			n *= 2
		}
		items = h.arg
		for range n {
			var d int
			var k uint64
			off, d, k = shape(data, off)
			depth = max(depth, d)
			items += k
		}
		return off, depth + 1, items
	}
	return off, 0, 0
}

func TestCheck(t *testing.T) {
	deep := func(n int) []byte { return append(bytes.Repeat([]byte{0x81}, n), 0) }
	many := func(n int) []byte {
		return append([]byte{0x9a, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	for _, tt := range []struct {
		data         []byte
		plain, limit error
	}{
		{deep(codec.MaxDepth), nil, nil},
		{deep(codec.MaxDepth + 1), nil, codec.ErrDepth},
		// An empty array or map is a level too, as [] is in JSON.
		{append(bytes.Repeat([]byte{0x81}, codec.MaxDepth-1), 0x80), nil, nil},
		{append(bytes.Repeat([]byte{0x81}, codec.MaxDepth), 0xa0), nil, codec.ErrDepth},
		{deep(1 << 20), nil, codec.ErrDepth},
		{deep(1 << 20)[:1<<20], errTruncated, codec.ErrDepth},
		{many(codec.MaxItems), nil, nil},
		{many(codec.MaxItems + 1), nil, codec.ErrItems},
		{[]byte{0x82, 0x9f, 0xff, 0}, errIndef, errIndef},
		{[]byte{0x81, 0xc1, 0}, errTag, errTag},
		{[]byte{0x81, 0xf8, 0x1f}, errSimple, errSimple},
		{[]byte{0x81, 0xf8, 0x20}, nil, nil},
		{[]byte{0x81, 0x1c}, errReserved, errReserved},
		{[]byte{0x81, 0, 0}, errTrailing, errTrailing},
		{[]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}, errTruncated, errTruncated},
		{[]byte{0xbb, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0}, errTruncated, errTruncated},
	} {
		if got := check(tt.data, false); got != tt.plain {
			t.Errorf("check(%.16x…) = %v, want %v", tt.data, got, tt.plain)
		}
		if got := check(tt.data, true); got != tt.limit {
			t.Errorf("check(%.16x…) with limits = %v, want %v", tt.data, got, tt.limit)
		}
	}
}

// FuzzCheck: check agrees with the library on what is well-formed, and
// with a plain recursive walk on what is beyond the limits.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0x82, 0x81, 0x80, 0xa1, 0x61, 'a', 0x01})
	f.Add([]byte{0x9a, 0x00, 0x01, 0x86, 0xa1})
	f.Add(append(bytes.Repeat([]byte{0x81}, codec.MaxDepth+1), 0))
	f.Add([]byte{0x83, 0x9f, 0xff, 0xc1, 0xf8, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		plain := check(data, false)
		if lib := wellformedMode.Wellformed(data); (plain == nil) != (lib == nil) {
			t.Fatalf("check(%x) = %v, library says %v", data, plain, lib)
		}
		limited := check(data, true)
		if plain != nil {
			if limited == nil {
				t.Fatalf("check(%x) with limits accepts what it refuses without: %v", data, plain)
			}
			return
		}
		_, depth, items := shape(data, 0)
		overDepth, overItems := depth > codec.MaxDepth, items > codec.MaxItems
		ok := limited == nil && !overDepth && !overItems ||
			limited == codec.ErrDepth && overDepth || limited == codec.ErrItems && overItems
		if !ok {
			t.Fatalf("check(%x) with limits = %v; depth %d, items %d", data, limited, depth, items)
		}
	})
}
