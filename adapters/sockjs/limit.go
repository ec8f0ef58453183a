package sockjs

import (
	"bufio"
	"errors"
	"net"
	"net/http"

	"github.com/parleyrpc/parley/internal/wsframe"
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

// frameLimiter follows the frame headers of a WebSocket byte stream,
// adding up the payload lengths of each message's data frames, and fails
// as soon as a header announces a message longer than limit. Control
// frames (ping, pong, close) interleave with a fragmented message and do
// not count.
type frameLimiter struct {
	limit   int64
	frames  wsframe.Follower
	message int64 // payload bytes of the current message so far
}

// scan follows b, the next bytes of the stream.
func (f *frameLimiter) scan(b []byte) error { return f.frames.Feed(b, f.header) }

func (f *frameLimiter) header(h wsframe.Header) error {
	if h.Control() {
		return nil
	}
	if h.Length > uint64(f.limit) || f.message+int64(h.Length) > f.limit {
		return errReadLimit
	}
	f.message += int64(h.Length)
	if h.Fin { // the message is complete
		f.message = 0
	}
	return nil
}
