package sockjs_test

// The tests reach the raw websocket endpoint (prefix/websocket) with
// internal/rawws, as gorilla/websocket may be imported by
// adapters/websocket only.

import (
	"context"
	"encoding/base64"
	"net"
	"net/http"
	"sync"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/rawws"
	"github.com/parleyrpc/parley/rpc"
)

// wsConn is a raw client connection; SockJS carries text frames only.
type wsConn struct{ *rawws.Conn }

// dialWS opens a WebSocket to rawURL (ws://). header adds request
// headers (Origin, say). A refused handshake gives a *rawws.HandshakeError.
func dialWS(ctx context.Context, rawURL string, header http.Header) (*wsConn, error) {
	c, err := rawws.Dial(ctx, rawURL, header)
	if err != nil {
		return nil, err
	}
	return &wsConn{c}, nil
}

// WriteText sends one text message.
func (c *wsConn) WriteText(p []byte) error { return c.WriteMessage(rawws.OpText, p) }

// ReadText returns the next message. A close frame from the server gives
// a *rawws.CloseError.
func (c *wsConn) ReadText() ([]byte, error) {
	_, msg, err := c.ReadMessage()
	return msg, err
}

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
			msg, err := t.c.ReadText()
			if err != nil {
				select {
				case <-t.closed:
					in.OnClose(net.ErrClosed)
				default:
					in.OnClose(err) // a *rawws.CloseError names the code
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
