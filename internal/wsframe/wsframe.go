// Package wsframe follows the frames of a WebSocket byte stream (RFC 6455
// section 5.2) as the stream passes by, without buffering payloads. The
// adapters use it under the WebSocket libraries they build on, which read
// the stream themselves: to apply a read limit sockjs-go has no setting
// for, and to know where the messages gorilla reads begin and end.
package wsframe

// Header is what a frame's header says of it.
type Header struct {
	Fin    bool   // the last frame of its message
	Opcode byte   // 0x0 continuation, 0x1 text, 0x2 binary; 0x8 and up control
	Length uint64 // payload bytes
}

// Control reports whether the frame is a control frame (close, ping,
// pong): one that may come between the frames of a fragmented message
// and is not part of it.
func (h Header) Control() bool { return h.Opcode&0x8 != 0 }

// Follower follows the frames of a stream. Its zero value is at the start
// of a frame.
type Follower struct {
	hdr       [14]byte // the frame header being read
	hn        int      // bytes of hdr read so far
	remaining uint64   // payload bytes of the current frame still to pass
}

// Between reports whether the bytes followed so far end between two
// frames.
func (f *Follower) Between() bool { return f.hn == 0 && f.remaining == 0 }

// Feed follows b, the next bytes of the stream, calling header with each
// frame header that b completes. It stops at the first error header
// returns, and returns it.
func (f *Follower) Feed(b []byte, header func(Header) error) error {
	for len(b) > 0 {
		if f.remaining > 0 {
			k := uint64(len(b))
			if k > f.remaining {
				k = f.remaining
			}
			f.remaining -= k
			b = b[k:]
			continue
		}
		f.hdr[f.hn] = b[0]
		f.hn++
		b = b[1:]
		if f.hn < 2 || f.hn < f.headerSize() {
			continue
		}
		f.hn = 0
		h := Header{Fin: f.hdr[0]&0x80 != 0, Opcode: f.hdr[0] & 0x0f, Length: f.length()}
		f.remaining = h.Length
		if err := header(h); err != nil {
			return err
		}
	}
	return nil
}

// headerSize is the size of the header whose first two bytes are in hdr.
func (f *Follower) headerSize() int {
	n := 2
	switch f.hdr[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if f.hdr[1]&0x80 != 0 { // masked: every client frame
		n += 4
	}
	return n
}

// length is the payload length the header in hdr announces.
func (f *Follower) length() uint64 {
	switch n := f.hdr[1] & 0x7f; n {
	case 126:
		return uint64(f.hdr[2])<<8 | uint64(f.hdr[3])
	case 127:
		var size uint64
		for _, b := range f.hdr[2:10] {
			size = size<<8 | uint64(b)
		}
		return size
	default:
		return uint64(n)
	}
}
