package cbor

import (
	"encoding/binary"
	"math"
)

// CBOR major types (the top three bits of an item's first byte).
const (
	majorUint   = 0
	majorNeg    = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// Simple values and float heads (major type 7 additional information).
const (
	aiFalse   = 20
	aiTrue    = 21
	aiNull    = 22
	aiFloat16 = 25
	aiFloat32 = 26
	aiFloat64 = 27
)

const cborNull = 0xf6

// head is a decoded CBOR item head.
type head struct {
	major byte
	ai    byte   // additional information (low five bits of the first byte)
	arg   uint64 // argument: value, length, count, or float bits
}

// readHead decodes the item head at data[off:] and returns it with the
// offset just after it. ok is false when the head is truncated or uses an
// additional information value this package does not accept (28-30, which
// are reserved, and 31, indefinite length or "break").
func readHead(data []byte, off int) (h head, next int, ok bool) {
	if off < 0 || off >= len(data) {
		return h, off, false
	}
	b := data[off]
	off++
	h.major, h.ai = b>>5, b&0x1f
	switch {
	case h.ai < 24:
		h.arg = uint64(h.ai)
	case h.ai == 24:
		if len(data)-off < 1 {
			return h, off, false
		}
		h.arg = uint64(data[off])
		off++
	case h.ai == 25:
		if len(data)-off < 2 {
			return h, off, false
		}
		h.arg = uint64(binary.BigEndian.Uint16(data[off:]))
		off += 2
	case h.ai == 26:
		if len(data)-off < 4 {
			return h, off, false
		}
		h.arg = uint64(binary.BigEndian.Uint32(data[off:]))
		off += 4
	case h.ai == 27:
		if len(data)-off < 8 {
			return h, off, false
		}
		h.arg = binary.BigEndian.Uint64(data[off:])
		off += 8
	default:
		return h, off, false
	}
	return h, off, true
}

// readString returns the payload bounds of the byte or text string whose
// head h ends at off. ok is false when the payload is truncated.
func readString(data []byte, off int, h head) (start, end int, ok bool) {
	if h.arg > uint64(len(data)-off) {
		return off, off, false
	}
	return off, off + int(h.arg), true
}

// skip returns the offset just after the item that starts at data[off:].
// It walks nested items without recursion, counting the items still owed.
// ok is false for truncated or unsupported input; Decode only calls it on
// data already checked by the well-formedness pass, so that is a safety net.
func skip(data []byte, off int) (next int, ok bool) {
	// Fast path: small integers, simple values and short strings.
	if off >= 0 && off < len(data) {
		b := data[off]
		if ai := int(b & 0x1f); ai < 24 {
			switch b >> 5 {
			case majorUint, majorNeg, majorSimple:
				return off + 1, true
			case majorBytes, majorText:
				if ai < len(data)-off {
					return off + 1 + ai, true
				}
				return off, false
			}
		}
	}
	pending := uint64(1)
	for pending > 0 {
		h, n, ok := readHead(data, off)
		if !ok {
			return off, false
		}
		off = n
		pending--
		rest := uint64(len(data) - off)
		switch h.major {
		case majorBytes, majorText:
			if h.arg > rest {
				return off, false
			}
			off += int(h.arg)
			continue
		case majorArray:
			if h.arg > rest {
				return off, false
			}
			pending += h.arg
		case majorMap:
			if h.arg > rest/2 {
				return off, false
			}
			pending += 2 * h.arg
		case majorTag:
			pending++
		}
		// Every owed item needs at least one more byte.
		if pending > rest {
			return off, false
		}
	}
	return off, true
}

// float reports the value of a float head (additional information 25, 26
// or 27).
func (h head) float() float64 {
	switch h.ai {
	case aiFloat16:
		return halfToFloat(uint16(h.arg))
	case aiFloat32:
		return float64(math.Float32frombits(uint32(h.arg)))
	}
	return math.Float64frombits(h.arg)
}

// halfToFloat converts IEEE 754 half-precision bits to a float64.
func halfToFloat(bits uint16) float64 {
	exp := int(bits>>10) & 0x1f
	mant := float64(bits & 0x3ff)
	var f float64
	switch exp {
	case 0: // zero and subnormals
		f = math.Ldexp(mant, -24)
	case 0x1f:
		if mant == 0 {
			f = math.Inf(1)
		} else {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(mant+1024, exp-25)
	}
	if bits&0x8000 != 0 {
		f = -f
	}
	return f
}

// appendHead appends the shortest head for major type major and argument n.
func appendHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= math.MaxUint8:
		return append(dst, m|24, byte(n))
	case n <= math.MaxUint16:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= math.MaxUint32:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// appendText appends s as a CBOR text string.
func appendText(dst []byte, s string) []byte {
	dst = appendHead(dst, majorText, uint64(len(s)))
	return append(dst, s...)
}

// appendInt appends n as a CBOR integer.
func appendInt(dst []byte, n int64) []byte {
	if n >= 0 {
		return appendHead(dst, majorUint, uint64(n))
	}
	return appendHead(dst, majorNeg, uint64(^n)) // -1-n
}

// appendFloat64 appends f as a CBOR double-precision float.
func appendFloat64(dst []byte, f float64) []byte {
	b := math.Float64bits(f)
	return append(dst, majorSimple<<5|aiFloat64, byte(b>>56), byte(b>>48), byte(b>>40),
		byte(b>>32), byte(b>>24), byte(b>>16), byte(b>>8), byte(b))
}
