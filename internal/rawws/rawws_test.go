package rawws_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/rawws"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// echoServer accepts the handshake by hand, pings the client, echoes one
// message back in two fragments, then sends a close frame.
func echoServer(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "https://evil.example" {
			http.Error(w, "origin not allowed", http.StatusForbidden)
			return
		}
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		nc, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
		brw.Write([]byte{0x89, 0x01, 'p'}) // ping
		brw.Flush()
		// The pong and the message, in either order.
		var msg []byte
		pong := false
		for range 2 {
			op, p, err := readMasked(brw.Reader)
			switch {
			case err != nil:
				t.Error(err)
				return
			case op == 0xa:
				pong = string(p) == "p"
			default:
				msg = p
			}
		}
		if !pong {
			t.Error("no pong")
		}
		half := len(msg) / 2
		brw.Write(append([]byte{0x01, byte(half)}, msg[:half]...))            // text, not final
		brw.Write(append([]byte{0x80, byte(len(msg) - half)}, msg[half:]...)) // continuation, final
		brw.Write([]byte{0x88, 0x04, 0x03, 0xf0, 'b', 'y'})                   // close 1008 "by"
		brw.Flush()
		_, _, _ = readMasked(brw.Reader) // the client's close
	}))
}

// readMasked reads one short masked client frame and unmasks it.
func readMasked(r *bufio.Reader) (op byte, payload []byte, err error) {
	var h [6]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 == 0 || h[1]&0x7f > 125 {
		return 0, nil, errors.New("not a short masked frame")
	}
	p := make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	for i := range p {
		p[i] ^= h[2+i%4]
	}
	return h[0] & 0x0f, p, nil
}

// TestEcho: handshake, a ping answered, a fragmented message joined, a
// close frame reported with its code and reason.
func TestEcho(t *testing.T) {
	hs := echoServer(t)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rawws.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteMessage(rawws.OpText, []byte("hello, echo")); err != nil {
		t.Fatal(err)
	}
	op, msg, err := c.ReadMessage()
	if err != nil || op != rawws.OpText || !bytes.Equal(msg, []byte("hello, echo")) {
		t.Fatalf("echo: %d %q %v", op, msg, err)
	}
	_, _, err = c.ReadMessage()
	var ce *rawws.CloseError
	if !errors.As(err, &ce) || ce.Code != 1008 || ce.Reason != "by" {
		t.Fatalf("close: %v", err)
	}
}

// TestRefused: a refused handshake is a *HandshakeError with the status
// and the body.
func TestRefused(t *testing.T) {
	hs := echoServer(t)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := rawws.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), http.Header{"Origin": {"https://evil.example"}})
	var he *rawws.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden || he.Body != "origin not allowed" {
		t.Fatalf("got %v", err)
	}
}

// TestReadLimit: a message over the limit fails the read.
func TestReadLimit(t *testing.T) {
	hs := echoServer(t)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rawws.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ReadLimit = 4
	_ = c.WriteMessage(rawws.OpText, []byte("longer than four"))
	if _, _, err := c.ReadMessage(); err == nil || !strings.Contains(err.Error(), "read limit") {
		t.Fatalf("got %v", err)
	}
}
