package main

import (
	"net"
	"sync"
)

// The sizes the program prints are measured, not computed: the server's
// listener is wrapped so that every byte its connections read and write
// goes through a WebSocket frame parser, which records each frame's
// opcode, header size and payload.

// frame is one WebSocket frame as it crossed the server's socket.
type frame struct {
	opcode  byte   // 1 text, 2 binary, 8 and up control frames
	header  int    // header bytes on the wire, mask key included
	payload []byte // unmasked
}

// wire returns the frame's size on the wire.
func (f frame) wire() int { return f.header + len(f.payload) }

// wiretap is a net.Listener whose connections record their frames: those
// the server read (from clients) and those it wrote (to clients).
type wiretap struct {
	net.Listener

	mu        sync.Mutex
	recording bool
	read      []frame // client to server
	written   []frame // server to client
}

func newWiretap(ln net.Listener) *wiretap { return &wiretap{Listener: ln, recording: true} }

// Accept wraps connections accepted while the tap records.
func (t *wiretap) Accept() (net.Conn, error) {
	c, err := t.Listener.Accept()
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.recording {
		return c, nil
	}
	return &tappedConn{
		Conn: c,
		in:   frameParser{add: func(f frame) { t.add(&t.read, f) }},
		out:  frameParser{add: func(f frame) { t.add(&t.written, f) }},
	}, nil
}

func (t *wiretap) add(list *[]frame, f frame) {
	t.mu.Lock()
	*list = append(*list, f)
	t.mu.Unlock()
}

// stop ends recording for connections accepted from now on.
func (t *wiretap) stop() {
	t.mu.Lock()
	t.recording = false
	t.mu.Unlock()
}

// mark returns the number of frames recorded so far in each direction.
func (t *wiretap) mark() (read, written int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.read), len(t.written)
}

// dataSince returns the data (non-control) frames recorded after a mark.
func (t *wiretap) dataSince(read, written int) (in, out []frame) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return dataFrames(t.read[read:]), dataFrames(t.written[written:])
}

func dataFrames(fs []frame) []frame {
	var data []frame
	for _, f := range fs {
		if f.opcode < 8 {
			data = append(data, f)
		}
	}
	return data
}

// tappedConn feeds what the server reads and writes to two parsers.
type tappedConn struct {
	net.Conn
	in, out frameParser
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.feed(p[:n])
	return n, err
}

// Write records before writing: once the bytes are sent the client may
// act on them, and the frame must already be on record by then.
func (c *tappedConn) Write(p []byte) (int, error) {
	c.out.feed(p)
	return c.Conn.Write(p)
}

// maxRecorded is the largest payload the parser follows; the peers'
// message size limit (1 MiB by default) refuses larger ones anyway.
const maxRecorded = 1 << 24

// frameParser follows one direction of a connection: first the HTTP
// upgrade request or response, up to the blank line, then WebSocket frames
// (RFC 6455, section 5.2). It is fed from one goroutine at a time.
type frameParser struct {
	add func(frame)

	upgraded bool   // past the HTTP headers
	crlf     int    // how much of "\r\n\r\n" was seen last
	head     []byte // the current frame's header, while incomplete
	f        frame  // the current frame, while its payload arrives
	left     int    // payload bytes still to come
	key      [4]byte
	masked   bool
	broken   bool // a length this parser will not follow: stop recording
}

func (p *frameParser) feed(b []byte) {
	for len(b) > 0 && !p.broken {
		switch {
		case !p.upgraded:
			b = p.skipHTTP(b)
		case p.left > 0:
			n := min(p.left, len(b))
			for _, c := range b[:n] {
				if p.masked {
					c ^= p.key[len(p.f.payload)%4]
				}
				p.f.payload = append(p.f.payload, c)
			}
			p.left -= n
			b = b[n:]
			if p.left == 0 {
				p.add(p.f)
			}
		default:
			b = p.readHeader(b)
		}
	}
}

// skipHTTP consumes bytes up to and including the blank line that ends
// the HTTP headers.
func (p *frameParser) skipHTTP(b []byte) []byte {
	const end = "\r\n\r\n"
	for i, c := range b {
		switch {
		case c == end[p.crlf]:
			p.crlf++
		case c == '\r':
			p.crlf = 1
		default:
			p.crlf = 0
		}
		if p.crlf == len(end) {
			p.upgraded = true
			return b[i+1:]
		}
	}
	return nil
}

// readHeader gathers a frame header; when it is complete, it starts the
// frame (or records it at once when it has no payload).
func (p *frameParser) readHeader(b []byte) []byte {
	for len(b) > 0 {
		p.head = append(p.head, b[0])
		b = b[1:]
		if len(p.head) < 2 {
			continue
		}
		size := 2
		switch p.head[1] & 0x7f {
		case 126:
			size += 2
		case 127:
			size += 8
		}
		masked := p.head[1]&0x80 != 0
		if masked {
			size += 4
		}
		if len(p.head) < size {
			continue
		}
		length := int(p.head[1] & 0x7f)
		switch length {
		case 126:
			length = int(p.head[2])<<8 | int(p.head[3])
		case 127:
			length = 0
			for _, c := range p.head[2:10] {
				length = length<<8 | int(c)
			}
		}
		if length < 0 || length > maxRecorded {
			p.broken = true
			return nil
		}
		p.masked = masked
		if masked {
			copy(p.key[:], p.head[size-4:size])
		}
		p.f = frame{opcode: p.head[0] & 0x0f, header: size, payload: make([]byte, 0, min(length, 1<<16))}
		p.left = length
		p.head = p.head[:0]
		if length == 0 {
			p.add(p.f)
		}
		return b
	}
	return b
}
