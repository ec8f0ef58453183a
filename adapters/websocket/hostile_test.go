package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
)

// hostileTarget serves hostile.Service over the WebSocket adapter and
// dials it with a raw gorilla client speaking c: JSON in text frames with
// no subprotocol, CBOR in binary frames with jsonrpc2.cbor.
func hostileTarget(t *testing.T, c codec.Codec) hostile.Target {
	svc := hostile.NewService()
	ts := startServer(t, &websocket.ServerOptions{PeerOptions: svc.PeerOptions()})
	var protocols []string
	frame := gorilla.TextMessage
	if c.Binary() {
		protocols = []string{websocket.Subprotocol(c)}
		frame = gorilla.BinaryMessage
	}
	return hostile.Target{
		Codec:   c,
		Service: svc,
		Dial: func(ctx context.Context) (hostile.Conn, error) {
			d := gorilla.Dialer{Subprotocols: protocols}
			ws, _, err := d.DialContext(ctx, ts.url, nil)
			if err != nil {
				return nil, err
			}
			if got := ws.Subprotocol(); len(protocols) > 0 && got != protocols[0] {
				_ = ws.Close()
				return nil, fmt.Errorf("subprotocol %q, want %q", got, protocols[0])
			}
			read := func() ([]byte, error) {
				_, msg, err := ws.ReadMessage()
				return msg, err
			}
			write := func(msg []byte) error {
				// A server that stopped reading for good must fail the
				// test, not hang it.
				_ = ws.SetWriteDeadline(time.Now().Add(time.Minute))
				return ws.WriteMessage(frame, msg)
			}
			return hostile.NewConn(read, write, ws.Close), nil
		},
		// The read limit is the peer's maximum message size: one byte
		// more ends the connection with close code 1009.
		OversizeCloses: true,
		CheckClose: func(err error) error {
			var ce *gorilla.CloseError
			if !errors.As(err, &ce) || ce.Code != gorilla.CloseMessageTooBig {
				return fmt.Errorf("got %v, want close code 1009", err)
			}
			return nil
		},
	}
}

// TestHostileJSON runs the hostile corpus, the call flood and the cancel
// flood (package internal/hostile) against a server over a raw WebSocket
// in JSON: every case gets its answer or a clean close, the connection
// stays usable, nothing panics, goroutines and heap stay bounded.
func TestHostileJSON(t *testing.T) { hostile.Run(t, hostileTarget(t, json.Codec{})) }

// TestHostileCBOR is TestHostileJSON with CBOR in binary frames.
func TestHostileCBOR(t *testing.T) { hostile.Run(t, hostileTarget(t, cbor.Codec{})) }
