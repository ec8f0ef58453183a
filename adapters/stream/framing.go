package stream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Framing is how messages are cut out of a byte stream.
type Framing uint8

const (
	// Header is the framing of the Language Server Protocol: each message
	// is preceded by a header block, "Content-Length: N\r\n\r\n", and is N
	// bytes long. Other headers (Content-Type, say) are read and ignored;
	// header names are case-insensitive. It carries any codec, CBOR
	// included. It is the zero value.
	Header Framing = iota
	// Lines is newline-delimited JSON, as the Model Context Protocol's
	// stdio transport and many command-line tools speak it: each message
	// is one line, ended by "\n" (a "\r" before it is dropped; blank lines
	// are skipped). It carries text codecs only: JSON, not CBOR. Newlines
	// in an outgoing message (whitespace a handler's raw result may hold:
	// JSON strings cannot contain them) are sent as spaces.
	Lines
)

// String returns the framing's name, as the package's docs use it.
func (f Framing) String() string {
	switch f {
	case Header:
		return "header"
	case Lines:
		return "lines"
	}
	return "Framing(" + strconv.Itoa(int(f)) + ")"
}

// ErrFraming is wrapped by the error that ends a link whose bytes do not
// follow the framing: a header block without a valid Content-Length (none,
// negative, not a number, beyond int64, two that differ), a header line
// without a colon, a header block longer than [MaxHeaderBytes], or a
// stream cut in the middle of a message. The other end is told first
// with a -32700 answer whose id is null, where the link still takes it.
// Nothing after such an error can be trusted to start a message, so the
// link ends.
var ErrFraming = errors.New("stream: framing error")

// MaxHeaderBytes bounds a message's header block under [Header] framing.
const MaxHeaderBytes = 8 << 10

// bodyChunk is how much of a message body is allocated before its bytes
// arrive: a peer that announces a large message and sends it slowly holds
// no more memory than it has sent, plus this.
const bodyChunk = 64 << 10

// framingError is a fatal framing error: its text says what was wrong.
func framingError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFraming, fmt.Sprintf(format, args...))
}

// tooLarge reports a message over the read limit that the reader skipped
// (or is about to skip): the link goes on. size is the announced size, or
// -1 when unknown (a line longer than the limit).
type tooLarge struct{ size int64 }

func (e *tooLarge) Error() string { return "message too large" }

// frameReader cuts messages out of a byte stream.
type frameReader interface {
	// next returns the next message, newly allocated (the caller keeps
	// it). It returns io.EOF when the stream ends cleanly between
	// messages, a *tooLarge when a message over the limit was met (before
	// it is skipped, for header framing: see skip), and any other error
	// when the link cannot go on.
	next() ([]byte, error)
	// skip discards the rest of the message next reported as too large.
	skip() error
}

// headerReader reads [Header] framing.
type headerReader struct {
	br      *bufio.Reader
	max     int
	pending int64 // bytes of an oversize body still to skip
}

func newHeaderReader(r io.Reader, max int) *headerReader {
	return &headerReader{br: bufio.NewReaderSize(r, 4096), max: max}
}

func (r *headerReader) next() ([]byte, error) {
	length, err := r.readHeader()
	if err != nil {
		return nil, err
	}
	if length > int64(r.max) {
		r.pending = length
		return nil, &tooLarge{size: length}
	}
	return readBody(r.br, int(length))
}

func (r *headerReader) skip() error {
	n, err := io.CopyN(io.Discard, r.br, r.pending)
	r.pending -= n
	if err == io.EOF {
		return framingError("the stream ended %d bytes short of the end of a message", r.pending)
	}
	return err
}

// readHeader reads one header block and returns its Content-Length. Blank
// lines before the block are skipped (some writers leave one between
// messages).
func (r *headerReader) readHeader() (int64, error) {
	length := int64(-1)
	total := 0
	started := false
	for {
		line, err := r.br.ReadSlice('\n')
		total += len(line)
		switch {
		case err == bufio.ErrBufferFull, total > MaxHeaderBytes:
			return 0, framingError("header block longer than %d bytes", MaxHeaderBytes)
		case err == io.EOF && !started && len(bytes.TrimSpace(line)) == 0:
			return 0, io.EOF
		case err == io.EOF:
			return 0, framingError("the stream ended inside a header block")
		case err != nil:
			return 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if !started {
				total = 0
				continue
			}
			break
		}
		started = true
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, framingError("header line without a colon: %s", quote(line))
		}
		if !bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")) {
			continue // Content-Type and the like: tolerated
		}
		n, err := parseLength(bytes.TrimSpace(value))
		if err != nil {
			return 0, err
		}
		if length >= 0 && n != length {
			return 0, framingError("two Content-Length headers that differ (%d and %d)", length, n)
		}
		length = n
	}
	if length < 0 {
		return 0, framingError("header block without Content-Length")
	}
	return length, nil
}

// parseLength parses a Content-Length value: decimal digits only.
func parseLength(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, framingError("empty Content-Length")
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, framingError("Content-Length is not a non-negative number: %s", quote(v))
		}
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, framingError("Content-Length out of range: %s", quote(v))
	}
	return n, nil
}

// readBody reads a body of n bytes, allocating as its bytes arrive.
func readBody(br *bufio.Reader, n int) ([]byte, error) {
	b := make([]byte, 0, min(n, bodyChunk))
	for len(b) < n {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(n, 2*cap(b)))
			copy(nb, b)
			b = nb
		}
		m, err := br.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err != nil && len(b) < n {
			if err == io.EOF {
				return nil, framingError("the stream ended %d bytes short of the end of a message", n-len(b))
			}
			return nil, err
		}
	}
	return b, nil
}

// lineReader reads [Lines] framing.
type lineReader struct {
	br       *bufio.Reader
	max      int
	eof      bool // the stream has ended; next reports io.EOF
	skipping bool // an oversize line's end is still to be read: see skip
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 4096), max: max}
}

func (r *lineReader) next() ([]byte, error) {
	for {
		if r.eof {
			return nil, io.EOF
		}
		var msg []byte
		aliased := false // msg is the reader's buffer, not a copy
		for {
			frag, err := r.br.ReadSlice('\n')
			if msg == nil && err == nil {
				msg, aliased = frag, true
			} else {
				msg = append(msg, frag...)
			}
			// A line may carry "\r\n" beyond the limit's message.
			if len(msg) > r.max+2 {
				r.skipping = err != nil
				if err == io.EOF {
					r.eof, r.skipping = true, false
				}
				return nil, &tooLarge{size: -1}
			}
			if err == nil {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				// A last line without its newline is still a message.
				r.eof = true
				break
			}
			return nil, err
		}
		msg = bytes.TrimRight(msg, "\r\n")
		if len(bytes.TrimSpace(msg)) == 0 {
			continue
		}
		if len(msg) > r.max {
			return nil, &tooLarge{size: int64(len(msg))}
		}
		if aliased {
			msg = bytes.Clone(msg)
		}
		return msg, nil
	}
}

// skip discards the rest of an oversize line.
func (r *lineReader) skip() error {
	for r.skipping {
		_, err := r.br.ReadSlice('\n')
		switch err {
		case nil:
			r.skipping = false
		case bufio.ErrBufferFull:
		case io.EOF:
			r.skipping, r.eof = false, true
		default:
			return err
		}
	}
	return nil
}
