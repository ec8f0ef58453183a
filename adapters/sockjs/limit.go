package sockjs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
)

// errReadLimit fails the read of a WebSocket message longer than the read
// limit; sockjs-go then drops the connection.
var errReadLimit = errors.New("sockjs: websocket message exceeds the read limit")

// limitedHijacker hands the WebSocket upgrader a connection whose reads are
// watched by a [frameLimiter]. sockjs-go gives no way to set the
// upgraded connection's read limit, so the limit is applied underneath it.
type limitedHijacker struct {
	http.ResponseWriter
	limit int64
}

// Hijack hijacks the underlying connection and wraps it. The upgrader
// reads through the returned connection (it resets the buffered reader
// onto it, after checking that nothing is buffered).
func (h *limitedHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &limitedConn{Conn: conn, fl: frameLimiter{limit: h.limit}}, rw, nil
}

// Unwrap lets http.ResponseController reach the original writer.
func (h *limitedHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// limitedConn is a server-side WebSocket connection whose inbound frames
// are checked against a read limit as they stream by.
type limitedConn struct {
	net.Conn
	fl  frameLimiter
	err error
}

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.Conn.Read(p)
	if ferr := c.fl.scan(p[:n]); ferr != nil {
		c.err = ferr
		return 0, ferr
	}
	return n, err
}

// frameLimiter follows the frame headers of a WebSocket byte stream (RFC
// 6455 section 5.2) without buffering payloads, adding up the payload
// lengths of each message's data frames, and fails as soon as a header
// announces a message longer than limit. Control frames (ping, pong,
// close) interleave with a fragmented message and do not count.
type frameLimiter struct {
	limit     int64
	hdr       [14]byte // the frame header being read
	hn        int      // bytes of hdr read so far
	remaining uint64   // payload bytes of the current frame still to pass
	message   int64    // payload bytes of the current message so far
}

// scan follows b, the next bytes of the stream.
func (f *frameLimiter) scan(b []byte) error {
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
		if f.hn < 2 {
			continue
		}
		need := 2
		switch f.hdr[1] & 0x7f {
		case 126:
			need += 2
		case 127:
			need += 8
		}
		if f.hdr[1]&0x80 != 0 { // masked: every client frame
			need += 4
		}
		if f.hn < need {
			continue
		}
		f.hn = 0
		n := uint64(f.hdr[1] & 0x7f)
		switch n {
		case 126:
			n = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
		case 127:
			n = binary.BigEndian.Uint64(f.hdr[2:10])
		}
		f.remaining = n
		if f.hdr[0]&0x08 != 0 {
			continue // control frame
		}
		if n > uint64(f.limit) || f.message+int64(n) > f.limit {
			return errReadLimit
		}
		f.message += int64(n)
		if f.hdr[0]&0x80 != 0 { // FIN: the message is complete
			f.message = 0
		}
	}
	return nil
}
