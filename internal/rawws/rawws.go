// Package rawws is a minimal WebSocket client (RFC 6455) on the standard
// library alone, for tests that must speak WebSocket from packages that may
// not import gorilla/websocket (only adapters/websocket may).
//
// It does what such tests need and no more: the handshake (with extra
// request headers), messages out as one masked frame of any opcode or in
// fragments, messages in (fragments joined, pings answered, a close frame
// reported as a *CloseError), a read limit, and Close. It starts no
// goroutine.
package rawws

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// opContinuation marks the frames after the first of a fragmented message.
const opContinuation = 0x0

// Opcodes of the frames a Conn sends and receives.
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xa
)

// DefaultReadLimit bounds a message Conn.ReadMessage accepts, unless
// Conn.ReadLimit says otherwise.
const DefaultReadLimit = 64 << 20

// CloseError is what ReadMessage returns once the server sent a close
// frame.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("rawws: closed by the server with code %d %q", e.Code, e.Reason)
}

// HandshakeError is what Dial returns when the server refused the upgrade.
type HandshakeError struct {
	Status int
	Body   string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("rawws: handshake refused with HTTP %d: %s", e.Status, e.Body)
}

// Conn is a client connection. ReadMessage must be called from one
// goroutine at a time; WriteMessage and Close may be called from any.
type Conn struct {
	// ReadLimit bounds the size of a message ReadMessage accepts
	// (DefaultReadLimit when zero).
	ReadLimit int
	// Subprotocol is the subprotocol the server chose, if any.
	Subprotocol string

	nc  net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
}

// Dial opens a WebSocket to rawURL (ws:// or http://). header adds request
// headers (Origin, Sec-WebSocket-Protocol, Authorization...). ctx bounds
// the handshake.
func Dial(ctx context.Context, rawURL string, header http.Header) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	default:
		return nil, fmt.Errorf("rawws: unsupported scheme %q", u.Scheme)
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := &http.Request{Method: http.MethodGet, URL: u, Host: u.Host, Header: http.Header{}}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", key)
	req.Header.Set("Sec-WebSocket-Version", "13")
	if err := req.Write(nc); err != nil {
		_ = nc.Close()
		return nil, err
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		_ = nc.Close()
		return nil, &HandshakeError{Status: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		_ = nc.Close()
		return nil, fmt.Errorf("rawws: bad Sec-WebSocket-Accept %q", got)
	}
	_ = nc.SetDeadline(time.Time{})
	return &Conn{nc: nc, br: br, Subprotocol: resp.Header.Get("Sec-WebSocket-Protocol")}, nil
}

// NetConn returns the underlying connection, to set deadlines or to write
// raw bytes.
func (c *Conn) NetConn() net.Conn { return c.nc }

// WriteMessage sends payload as one masked frame with opcode op.
func (c *Conn) WriteMessage(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFrame(op, payload, true)
}

// WriteFragmented sends payload as one message with opcode op, in frames
// of at most size bytes (continuation frames after the first).
func (c *Conn) WriteFragmented(op byte, payload []byte, size int) error {
	if size < 1 {
		return fmt.Errorf("rawws: fragment size %d", size)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for {
		n := min(size, len(payload))
		if err := c.writeFrame(op, payload[:n], n == len(payload)); err != nil {
			return err
		}
		payload = payload[n:]
		if len(payload) == 0 {
			return nil
		}
		op = opContinuation
	}
}

// writeFrame writes one masked frame; fin false leaves the message open
// for continuation frames.
func (c *Conn) writeFrame(op byte, payload []byte, fin bool) error {
	hdr := make([]byte, 0, 14)
	if fin {
		op |= 0x80
	}
	hdr = append(hdr, op)
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	frame := make([]byte, len(hdr)+len(payload))
	copy(frame, hdr)
	for i, b := range payload {
		frame[len(hdr)+i] = b ^ mask[i%4]
	}
	_, err := c.nc.Write(frame)
	return err
}

// ReadMessage returns the next text or binary message and its opcode.
// Pings are answered and pongs skipped; a close frame from the server is
// answered and returned as a *CloseError.
func (c *Conn) ReadMessage() (op byte, msg []byte, err error) {
	limit := c.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return 0, nil, err
		}
		fin, fop := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(c.br, ext[:]); err != nil {
				return 0, nil, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(c.br, ext[:]); err != nil {
				return 0, nil, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if h[1]&0x80 != 0 {
			return 0, nil, errors.New("rawws: masked frame from the server")
		}
		if n > uint64(limit) || uint64(len(msg))+n > uint64(limit) {
			return 0, nil, fmt.Errorf("rawws: message over the read limit of %d bytes", limit)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return 0, nil, err
		}
		switch fop {
		case OpClose:
			ce := &CloseError{Code: 1005}
			if len(payload) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(payload))
				ce.Reason = string(payload[2:])
			}
			_ = c.WriteMessage(OpClose, payload[:min(2, len(payload))])
			_ = c.nc.Close()
			return 0, nil, ce
		case OpPing:
			_ = c.WriteMessage(OpPong, payload)
			continue
		case OpPong:
			continue
		case OpText, OpBinary:
			op = fop
		}
		msg = append(msg, payload...)
		if fin {
			return op, msg, nil
		}
	}
}

// Abort drops the TCP connection without a close frame.
func (c *Conn) Abort() error { return c.nc.Close() }

// Close sends a normal close frame (best effort, bounded by a second) and
// closes the connection.
func (c *Conn) Close() error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.WriteMessage(OpClose, []byte{0x03, 0xe8}) // 1000
	return c.nc.Close()
}
