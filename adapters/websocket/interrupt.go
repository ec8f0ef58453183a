package websocket

import (
	"errors"
	"os"
	"time"

	"github.com/parleyrpc/parley/internal/wsframe"
)

// Interrupting a caller's read.
//
// A caller whose context can end may read its own answer only if its read
// can be cut short when the context ends, and gorilla has no way to do
// that: a read deadline fails the connection for good. The netConn does
// it below gorilla instead. It follows the frames of the inbound stream as
// gorilla's reads pass through it (frameTracker); when the reading
// caller's context ends, it sets a read deadline in the past, which wakes
// a Read blocked in the kernel, and, once the stream handed to gorilla
// ends on a frame boundary outside any fragmented message, it answers the
// Read with an empty binary message of its own instead of an error. gorilla
// reads that message as the next one; the conn knows it by its number and
// drops it (conn.next), and the caller gives the reading back. A read
// deadline set otherwise (Close's, the teardown's) is kept aside while an
// interrupt's is in force, and restored; a timeout reaches gorilla only
// once that deadline has passed.
//
// The netConn must lie directly under gorilla, with nothing between them
// that frames the bytes: so not under a TLS client (wss://), nor after an
// HTTP proxy's CONNECT exchange, which the tracker does not follow. Then
// framed is false, and a caller whose context can end waits for the read
// loop to hand its answer over.

// errInterrupted is what conn.next reports for the message the netConn
// made up to interrupt a reading caller.
var errInterrupted = errors.New("websocket: read interrupted")

// Empty binary messages with FIN set: as a server sends them (unmasked),
// for a client's netConn to hand its gorilla, and as a client sends them
// (masked, with a zero key), for a server's.
var (
	syntheticFromServer = []byte{0x82, 0x00}
	syntheticFromClient = []byte{0x82, 0x80, 0, 0, 0, 0}
)

// frameTracker follows the WebSocket frames of an inbound byte stream. On
// the client side the stream starts with the HTTP response to the
// handshake, which it skips up to the blank line ending its header.
type frameTracker struct {
	inHTTP bool // still in the handshake's HTTP response
	crlf   int  // bytes of "\r\n\r\n" matched at the end of what was seen
	frames wsframe.Follower
	// fragmented: the last data frame had no FIN, so more of its message
	// is to come.
	fragmented bool
	// messages counts the data messages in the stream, those made up
	// included: a message counts when its final frame's header is seen.
	messages uint64
}

// atBoundary reports whether the stream seen so far ends between two
// messages.
func (f *frameTracker) atBoundary() bool {
	return !f.inHTTP && f.frames.Between() && !f.fragmented
}

// feed follows p, the next bytes of the stream.
func (f *frameTracker) feed(p []byte) {
	if f.inHTTP {
		const end = "\r\n\r\n"
		for i, c := range p {
			switch {
			case c == end[f.crlf]:
				f.crlf++
			case c == '\r':
				f.crlf = 1
			default:
				f.crlf = 0
			}
			if f.crlf == len(end) {
				f.inHTTP = false
				p = p[i+1:]
				break
			}
		}
		if f.inHTTP {
			return
		}
	}
	_ = f.frames.Feed(p, f.header)
}

func (f *frameTracker) header(h wsframe.Header) error {
	if !h.Control() {
		f.fragmented = !h.Fin
		if h.Fin {
			f.messages++
		}
	}
	return nil
}

// arm makes the reading caller interruptible: it returns the number that
// interrupt and disarm take, telling this caller's reading from others'.
func (c *netConn) arm() uint64 {
	c.intr.Lock()
	c.intr.gen++
	c.intr.armed = c.intr.gen
	gen := c.intr.gen
	c.intr.Unlock()
	return gen
}

// interrupt asks for the reading of caller gen to be cut short: at once
// if its Read is blocked, else at its next Read on a frame boundary. It
// runs on its own goroutine (context.AfterFunc).
func (c *netConn) interrupt(gen uint64) {
	c.intr.Lock()
	defer c.intr.Unlock()
	if c.intr.armed != gen || c.intr.wanted {
		return
	}
	c.intr.wanted = true
	if !c.intr.deadlineOurs {
		c.intr.deadlineOurs = true
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
	}
}

// disarm ends caller gen's interruptible reading, taking back an
// interrupt not yet carried out and the read deadline it set.
func (c *netConn) disarm(gen uint64) {
	c.intr.Lock()
	defer c.intr.Unlock()
	if c.intr.armed != gen {
		return
	}
	c.intr.armed = 0
	c.intr.wanted = false
	c.restoreDeadlineLocked()
}

// restoreDeadlineLocked puts back the read deadline others set, if an
// interrupt's replaced it.
func (c *netConn) restoreDeadlineLocked() {
	if c.intr.deadlineOurs {
		c.intr.deadlineOurs = false
		_ = c.Conn.SetReadDeadline(c.intr.deadline)
	}
}

// SetReadDeadline sets the read deadline; while an interrupt's deadline
// is in force, it is recorded, and set when that one is taken back.
func (c *netConn) SetReadDeadline(t time.Time) error {
	c.intr.Lock()
	defer c.intr.Unlock()
	c.intr.deadline = t
	if c.intr.deadlineOurs {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// interruptedRead reports whether a Read's error is the timeout of an
// interrupt's deadline, which it then takes back so that reading can go
// on. A timeout is the others' to report only once their deadline has
// passed: an interrupt's deadline may have been taken back (disarm) after
// it woke the Read.
func (c *netConn) interruptedRead(err error) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	c.intr.Lock()
	defer c.intr.Unlock()
	c.restoreDeadlineLocked()
	theirs := c.intr.deadline
	return theirs.IsZero() || time.Now().Before(theirs)
}

// takeInterrupt reports whether the Read about to be made should hand
// gorilla a made-up message instead: an interrupt is wanted and the stream
// is on a boundary.
func (c *netConn) takeInterrupt() bool {
	if !c.framed || !c.fr.atBoundary() {
		return false
	}
	c.intr.Lock()
	defer c.intr.Unlock()
	if !c.intr.wanted {
		return false
	}
	c.intr.wanted = false
	return true
}

// inject starts handing gorilla the made-up message, and records its
// number.
func (c *netConn) inject() {
	c.synthLeft = syntheticFromServer
	if c.server {
		c.synthLeft = syntheticFromClient
	}
	c.fr.messages++
	c.synthetic = c.fr.messages
}
