package sockjs

import (
	"encoding/binary"
	"testing"
)

// frame builds a masked client frame header plus payload.
func frame(fin bool, op byte, n int) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	h := []byte{b0}
	switch {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	h = append(h, 1, 2, 3, 4) // mask key
	return append(h, make([]byte, n)...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestFrameLimiter(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name   string
		stream []byte
		ok     bool
	}{
		{"small", frame(true, 1, 10), true},
		{"at the limit", frame(true, 1, limit), true},
		{"over, 16-bit length", frame(true, 1, limit+1), false},
		{"over, 64-bit length", frame(true, 2, 70000), false},
		{"many messages each under", cat(frame(true, 1, 900), frame(true, 1, 900), frame(true, 1, 900)), true},
		{"fragments under", cat(frame(false, 1, 400), frame(false, 0, 400), frame(true, 0, 200)), true},
		{"fragments over", cat(frame(false, 1, 400), frame(false, 0, 400), frame(true, 0, 201)), false},
		{"control frames do not count", cat(frame(false, 1, 600), frame(true, 9, 125), frame(true, 10, 125), frame(true, 0, 400)), true},
		{"count restarts after FIN", cat(frame(false, 1, 600), frame(true, 0, 400), frame(true, 1, 1000)), true},
		{"huge forged length", append([]byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, 2, 3, 4), false},
	}
	for _, tc := range tests {
		// The same stream, whole and one byte at a time.
		for _, chunk := range []int{len(tc.stream), 1, 7} {
			f := frameLimiter{limit: limit}
			var err error
			for b := tc.stream; len(b) > 0 && err == nil; {
				n := min(chunk, len(b))
				err = f.scan(b[:n])
				b = b[n:]
			}
			if (err == nil) != tc.ok {
				t.Errorf("%s (chunks of %d): err %v; want ok=%v", tc.name, chunk, err, tc.ok)
			}
		}
	}
}

// Whatever the bytes, scanning does not panic and does not depend on how
// the stream is cut into reads.
func FuzzFrameLimiter(f *testing.F) {
	f.Add(frame(true, 1, 10), uint8(3))
	f.Add(cat(frame(false, 1, 400), frame(true, 9, 2), frame(true, 0, 700)), uint8(1))
	f.Add([]byte{0x81, 0xff, 0xff, 0xff}, uint8(2))
	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		whole := frameLimiter{limit: 1000}
		errWhole := whole.scan(stream)
		cut := frameLimiter{limit: 1000}
		step := int(chunk%16) + 1
		var errCut error
		for b := stream; len(b) > 0 && errCut == nil; {
			n := min(step, len(b))
			errCut = cut.scan(b[:n])
			b = b[n:]
		}
		if (errWhole == nil) != (errCut == nil) {
			t.Fatalf("whole: %v, in chunks of %d: %v", errWhole, step, errCut)
		}
	})
}
