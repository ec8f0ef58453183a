package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/gather"
	"github.com/parleyrpc/parley/rpc"
)

// DefaultWriteTimeout bounds each write when the options say zero.
const DefaultWriteTimeout = 10 * time.Second

// ErrWriteTimeout is why a link ended when a write did not complete
// within the write timeout: the other end stopped reading. That is the
// slow-consumer policy: such a link is dropped rather than buffered for.
var ErrWriteTimeout = errors.New("stream: write timed out: the other end is not reading")

// errClosed is what Send returns once the link is closed.
var errClosed = fmt.Errorf("stream: %w", net.ErrClosed)

// maxKeptBuffer is the largest write buffer a link keeps between writes;
// a larger message is written without copying.
const maxKeptBuffer = 64 << 10

// Transport is an [rpc.Transport] over a byte stream. Create one with
// [NewTransport]; [NewPeer], [Server] and [Start] make theirs.
type Transport struct {
	rwc     io.ReadWriteCloser
	framing Framing
	codec   codec.Codec
	timeout time.Duration // per write; zero: none
	// deadline is rwc's SetWriteDeadline, when it has one that works;
	// otherwise a write that outlasts the timeout closes rwc.
	deadline func(time.Time) error

	in    rpc.Inbound
	onEnd func() // if set, called just before OnClose (a Server forgets the link)

	// Writes: the sender that finds nobody writing becomes the writer; it
	// writes its own frame, then whatever frames other senders handed
	// over meanwhile (pend), all at once. Under load, many frames go out
	// in one write; alone, a frame is written by its sender, with no
	// hand-off between goroutines. A writer that inbound messages may have
	// woken others to answer yields once first (gather), and writes their
	// frames with its own.
	wmu     sync.Mutex
	writing bool          // a sender is writing; guarded by wmu
	pend    []byte        // frames handed over, not yet written; guarded by wmu
	spare   []byte        // pend's other buffer, for the writer; guarded by wmu
	room    chan struct{} // if not nil, closed when pend empties; guarded by wmu
	wbuf    []byte        // the writer's own frame; the writer's alone

	// gather says when the writer should yield first, so that the
	// goroutines inbound messages woke hand their frames over to go out
	// with its own.
	gather gather.Credit

	closed    chan struct{} // closed by the first Close
	closeOnce sync.Once
	closeErr  atomic.Pointer[error] // why the link ended; set before closed is closed
}

var _ rpc.Transport = (*Transport)(nil)

// NewTransport returns a transport over rwc with opts' Framing, Codec and
// WriteTimeout (nil opts: header framing, JSON, [DefaultWriteTimeout]);
// the options' Handler and PeerOptions are for the peer and are ignored
// here. Give the transport to rpc.NewPeer with rpc.WithCodec of the same
// codec (the transport uses it to answer messages it refuses). The
// transport owns rwc: closing it closes rwc.
//
// Where rwc has a working SetWriteDeadline (a net.Conn, a pipe from
// os.Pipe), the write timeout is a deadline on each write; otherwise a
// write that outlasts it closes rwc.
func NewTransport(rwc io.ReadWriteCloser, opts *Options) (*Transport, error) {
	if rwc == nil {
		return nil, errors.New("stream: NewTransport: nil stream")
	}
	l, err := opts.check()
	if err != nil {
		return nil, err
	}
	return newTransport(rwc, l.framing, l.codec, l.timeout), nil
}

// newTransport makes a transport from checked settings.
func newTransport(rwc io.ReadWriteCloser, f Framing, c codec.Codec, timeout time.Duration) *Transport {
	t := &Transport{
		rwc:     rwc,
		framing: f,
		codec:   c,
		closed:  make(chan struct{}),
	}
	if timeout > 0 {
		t.timeout = timeout
		if d, ok := rwc.(interface{ SetWriteDeadline(time.Time) error }); ok && d.SetWriteDeadline(time.Time{}) == nil {
			t.deadline = d.SetWriteDeadline
		}
	}
	return t
}

// Start begins reading: one goroutine delivers each message to in.
func (t *Transport) Start(in rpc.Inbound) {
	t.in = in
	max := in.MaxMessageSize()
	var r frameReader
	if t.framing == Lines {
		r = newLineReader(t.rwc, max)
	} else {
		r = newHeaderReader(t.rwc, max)
	}
	go t.read(r, max)
}

// read delivers messages until the stream ends or fails, then reports the
// end.
func (t *Transport) read(r frameReader, max int) {
	var cause error
	for {
		msg, err := r.next()
		if err == nil {
			t.gather.Delivered()
			t.in.OnMessage(msg)
			continue
		}
		var big *tooLarge
		if errors.As(err, &big) {
			// Answered at once (the id is unknown: null), then skipped:
			// the framing says where the next message starts.
			text := fmt.Sprintf("message exceeds the limit of %d bytes", max)
			if big.size >= 0 {
				text = fmt.Sprintf("message of %d bytes exceeds the limit of %d", big.size, max)
			}
			t.answerError(rpc.CodeInvalidRequest, text)
			if err = r.skip(); err == nil {
				continue
			}
		}
		if errors.Is(err, ErrFraming) {
			t.answerError(rpc.CodeParseError, err.Error())
		}
		cause = err
		break
	}
	switch {
	case cause == io.EOF, errors.Is(cause, ErrFraming):
	default:
		cause = fmt.Errorf("stream: read: %w", cause)
	}
	// If this end closed the link first (Close, a write timeout), that is
	// why it ended, whatever the read made of it.
	_ = t.closeWith(cause)
	if t.onEnd != nil {
		t.onEnd() // before the peer ends: a Server waiting for that counts it no more
	}
	t.in.OnClose(*t.closeErr.Load())
}

// answerError sends an error answer with a null id for a message that
// never reached the peer.
func (t *Transport) answerError(code rpc.Code, text string) {
	m := codec.Message{ID: codec.Null(), Error: &codec.Error{Code: int64(code), Message: text}}
	msg, err := t.codec.AppendMessage(nil, &m)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWriteTimeout)
	defer cancel()
	_ = t.Send(ctx, msg) // a failed send means the link is ending
}

// maxPending bounds the frames handed over to the writer: beyond it a
// sender waits (up to its context's end) for the writer to take them.
const maxPending = 256 << 10

// Send writes msg as one frame, or hands it to the sender writing now,
// which writes it with its own (a bounded buffer: beyond [maxPending] a
// sender waits for room, up to ctx's end). A write under way is not cut
// short by ctx (half a frame would wreck the stream) but by the write
// timeout, which ends the link with [ErrWriteTimeout].
func (t *Transport) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	others := t.gather.Sent()
	t.wmu.Lock()
	for t.writing {
		if len(t.pend) == 0 || len(t.pend)+len(msg)+32 <= maxPending {
			t.pend = t.appendFrame(t.pend, msg)
			t.wmu.Unlock()
			return nil
		}
		if t.room == nil {
			t.room = make(chan struct{})
		}
		room := t.room
		t.wmu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		case <-t.closed:
			return t.sendClosed()
		}
		t.wmu.Lock()
	}
	select {
	case <-t.closed:
		t.wmu.Unlock()
		return t.sendClosed()
	default:
	}
	t.writing = true
	t.wmu.Unlock()

	var err error
	if others > 0 {
		t.gather.Yield()
		t.wmu.Lock()
		if len(t.pend) == 0 {
			t.gather.Alone(others) // nobody came
		}
		if len(t.pend) > 0 && len(t.pend)+len(msg)+32 <= maxPending {
			buf := append(t.appendFrame(t.spare[:0], msg), t.pend...)
			t.spare, t.pend = t.pend[:0], buf // the loop below writes it
			msg = nil
		}
		t.wmu.Unlock()
	}
	if msg != nil {
		err = t.write(msg)
	}
	t.wmu.Lock()
	for err == nil && len(t.pend) > 0 {
		buf := t.pend
		t.pend = t.spare[:0]
		t.wakeRoom()
		t.wmu.Unlock()
		err = t.writeBytes(buf)
		t.wmu.Lock()
		if cap(buf) <= maxPending {
			t.spare = buf[:0]
		}
	}
	t.writing = false
	t.pend = t.pend[:0] // after a failure: dropped with the link
	t.wakeRoom()        // a waiting sender becomes the writer
	t.wmu.Unlock()
	if err != nil {
		return t.writeFailed(err)
	}
	return nil
}

// wakeRoom wakes the senders waiting for room; the caller holds wmu.
func (t *Transport) wakeRoom() {
	if t.room != nil {
		close(t.room)
		t.room = nil
	}
}

// appendFrame appends msg's frame to dst.
func (t *Transport) appendFrame(dst, msg []byte) []byte {
	if t.framing == Header {
		return append(appendHead(dst, len(msg)), msg...)
	}
	return appendLine(dst, msg)
}

// writeBytes writes frames already framed.
func (t *Transport) writeBytes(b []byte) error {
	stop := t.startWrite()
	_, err := t.rwc.Write(b)
	stop()
	return err
}

// sendClosed is Send's error on a closed link: why it ended.
func (t *Transport) sendClosed() error { return *t.closeErr.Load() }

// write writes one frame, as the writer. A small frame is copied into
// one buffer and written at once (a header and its body in one packet);
// a large one is written in two parts, without copying. It returns the
// write's error as it is.
func (t *Transport) write(msg []byte) error {
	var parts [2][]byte
	small := len(msg)+32 <= maxKeptBuffer
	switch {
	case small && t.framing == Header:
		parts[0] = append(appendHead(t.wbuf[:0], len(msg)), msg...)
		t.wbuf = parts[0][:0]
	case small:
		parts[0] = appendLine(t.wbuf[:0], msg)
		t.wbuf = parts[0][:0]
	case t.framing == Header:
		parts[0], parts[1] = appendHead(t.wbuf[:0], len(msg)), msg
	case bytes.ContainsAny(msg, "\r\n"):
		parts[0] = appendLine(nil, msg)
	default:
		parts[0], parts[1] = msg, newline
	}
	stop := t.startWrite()
	var err error
	for _, p := range parts {
		if len(p) > 0 && err == nil {
			_, err = t.rwc.Write(p)
		}
	}
	stop()
	return err
}

var newline = []byte{'\n'}

// appendHead appends the header block of an n-byte message.
func appendHead(dst []byte, n int) []byte {
	dst = append(dst, "Content-Length: "...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, "\r\n\r\n"...)
}

// appendLine appends msg and a newline to dst, with any newline in msg
// (whitespace, in valid JSON) sent as a space.
func appendLine(dst, msg []byte) []byte {
	start := len(dst)
	dst = append(dst, msg...)
	for i, c := range dst[start:] {
		if c == '\n' || c == '\r' {
			dst[start+i] = ' '
		}
	}
	return append(dst, '\n')
}

// startWrite arms the write timeout; the function it returns disarms it.
func (t *Transport) startWrite() (stop func()) {
	switch {
	case t.timeout <= 0:
		return func() {}
	case t.deadline != nil:
		_ = t.deadline(time.Now().Add(t.timeout))
		return func() {}
	}
	timer := time.AfterFunc(t.timeout, func() { _ = t.closeWith(t.timeoutErr()) })
	return func() { timer.Stop() }
}

func (t *Transport) timeoutErr() error {
	return fmt.Errorf("%w (a write made no progress for %v)", ErrWriteTimeout, t.timeout)
}

// writeFailed closes the link after a failed write and says why.
func (t *Transport) writeFailed(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		_ = t.closeWith(t.timeoutErr())
	} else {
		_ = t.closeWith(fmt.Errorf("stream: write: %w", err))
	}
	return t.sendClosed()
}

// Close closes the stream. It is idempotent and does not wait for a
// write in progress, nor for the reading goroutine.
func (t *Transport) Close() error { return t.closeWith(nil) }

// closeWith closes the stream; the first call wins, and its cause (nil:
// closed by this end) becomes why the link ended, for the peer and for
// later Sends.
func (t *Transport) closeWith(cause error) error {
	t.closeOnce.Do(func() {
		if cause == nil {
			cause = errClosed
		}
		t.closeErr.Store(&cause)
		close(t.closed)
		_ = t.rwc.Close()
	})
	return nil
}

// quote quotes the start of b for an error message.
func quote(b []byte) string {
	const n = 64
	if len(b) > n {
		for i := n; i > n-utf8.UTFMax && i > 0; i-- {
			if utf8.RuneStart(b[i]) {
				return strconv.Quote(string(b[:i])) + "..."
			}
		}
		return strconv.Quote(string(b[:n])) + "..."
	}
	return strconv.Quote(string(b))
}
