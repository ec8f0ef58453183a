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
