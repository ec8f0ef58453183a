package sockjs_test

// A minimal RFC 6455 WebSocket client for the raw websocket endpoint
// (prefix/websocket). gorilla/websocket may be imported by
// adapters/websocket only, so the tests carry their own: a handshake,
// masked frames out, frames in, ping answered, close frame parsed.

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

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa

	maxTestMessage = 64 << 20
)

// closeError is what reading returns once the server sent a close frame.
type closeError struct {
	Code   int
	Reason string
}

func (e *closeError) Error() string { return fmt.Sprintf("websocket closed: %d %q", e.Code, e.Reason) }

// wsConn is one client connection.
type wsConn struct {
	conn net.Conn
	br   *bufio.Reader
	wmu  sync.Mutex
}

// dialWS opens a WebSocket to rawURL (http:// or ws://). header adds
// request headers (Origin, say). On a refused handshake it returns the
// response with an error.
func dialWS(ctx context.Context, rawURL string, header http.Header) (*wsConn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1) // ws -> http, wss -> https
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
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
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, resp, fmt.Errorf("handshake refused: %s", resp.Status)
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, resp, fmt.Errorf("bad Sec-WebSocket-Accept %q", got)
	}
	_ = conn.SetDeadline(time.Time{})
	return &wsConn{conn: conn, br: br}, resp, nil
}

// writeFrame writes one whole masked frame.
func (c *wsConn) writeFrame(op byte, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFrameLocked(op, payload, true)
}

// writeFrameLocked writes a frame; fin false leaves the message open for
// continuation frames.
func (c *wsConn) writeFrameLocked(op byte, payload []byte, fin bool) error {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
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
	frame := append(hdr, payload...)
	for i := range payload {
		frame[len(hdr)+i] ^= mask[i%4]
	}
	_, err := c.conn.Write(frame)
	return err
}

// WriteText sends one text message.
func (c *wsConn) WriteText(p []byte) error { return c.writeFrame(opText, p) }

// WriteFragmented sends one text message in frames of at most size bytes.
func (c *wsConn) WriteFragmented(p []byte, size int) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	op := byte(opText)
	for {
		n := min(size, len(p))
		if err := c.writeFrameLocked(op, p[:n], n == len(p)); err != nil {
			return err
		}
		p = p[n:]
		if len(p) == 0 {
			return nil
		}
		op = opContinuation
	}
}

// ReadMessage returns the next data message. A close frame from the
// server gives a *closeError.
func (c *wsConn) ReadMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(c.br, ext[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(c.br, ext[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if h[1]&0x80 != 0 || n > maxTestMessage {
			return nil, errors.New("bad frame from the server")
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(c.br, payload); err != nil {
			return nil, err
		}
		switch op {
		case opClose:
			ce := &closeError{Code: 1005}
			if len(payload) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(payload))
				ce.Reason = string(payload[2:])
			}
			_ = c.writeFrame(opClose, payload[:min(2, len(payload))])
			c.conn.Close()
			return nil, ce
		case opPing:
			_ = c.writeFrame(opPong, payload)
			continue
		case opPong:
			continue
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// Close sends a normal close frame and closes the connection.
func (c *wsConn) Close() error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.writeFrame(opClose, []byte{0x03, 0xe8}) // 1000
	return c.conn.Close()
}

// Abort drops the TCP connection without a close frame.
func (c *wsConn) Abort() error { return c.conn.Close() }

// wsTransport runs an rpc.Peer over a wsConn, carrying binary codecs as
// base64 text the way the sockjs adapter expects.
type wsTransport struct {
	c      *wsConn
	binary bool
	once   sync.Once
	closed chan struct{}
}

func newWSTransport(c *wsConn, cd codec.Codec) *wsTransport {
	return &wsTransport{c: c, binary: cd.Binary(), closed: make(chan struct{})}
}

func (t *wsTransport) Start(in rpc.Inbound) {
	go func() {
		for {
			msg, err := t.c.ReadMessage()
			if err != nil {
				select {
				case <-t.closed:
					in.OnClose(net.ErrClosed)
				default:
					in.OnClose(err) // a *closeError names the code
				}
				return
			}
			if t.binary {
				if msg, err = base64.StdEncoding.DecodeString(string(msg)); err != nil {
					continue
				}
			}
			in.OnMessage(msg)
		}
	}()
}

func (t *wsTransport) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.binary {
		msg = []byte(base64.StdEncoding.EncodeToString(msg))
	}
	return t.c.WriteText(msg)
}

func (t *wsTransport) Close() error {
	t.once.Do(func() {
		close(t.closed)
		t.c.Close()
	})
	return nil
}
