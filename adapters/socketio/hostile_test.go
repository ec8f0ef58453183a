package socketio_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	jsoncodec "github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
	"github.com/parleyrpc/parley/internal/rawws"
)

// There is no socket.io client in go-socket.io v1.7.0; the hostile tests
// speak the protocol of socket.io-client 2 themselves, over a raw
// WebSocket (internal/rawws, so that the client side starts no
// goroutine per message and the goroutine counts are the server's): the
// server's Engine.IO open packet, the socket.io connect packet of
// namespace "/" ("40"), then one event packet per message,
// 42["rpc","<message>"], both ways. A CBOR message is carried as base64
// text, as the adapter expects.

// hostileSIO is a raw socket.io client connection.
type hostileSIO struct {
	ws     *rawws.Conn
	armour bool // base64 in and out (CBOR)

	wmu      sync.Mutex
	lastPing time.Time
}

// hostileDialSIO connects to the server at base (http://host:port) asking
// for codec c over the websocket transport, and waits for the namespace's
// connect packet.
func hostileDialSIO(ctx context.Context, base string, c codec.Codec) (*hostileSIO, error) {
	u := base + "/socket.io/?EIO=3&transport=websocket&" + socketio.QueryCodec + "=" + c.Name()
	ws, err := rawws.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	s := &hostileSIO{ws: ws, armour: c.Binary(), lastPing: time.Now()}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.NetConn().SetReadDeadline(dl)
	}
	// The open packet ("0{...}"), then "40": connected to "/".
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			_ = ws.Close()
			return nil, fmt.Errorf("waiting for the connect packet: %w", err)
		}
		text := string(msg)
		if text == "40" {
			break
		}
		if strings.HasPrefix(text, "44") || strings.HasPrefix(text, "1") {
			_ = ws.Close()
			return nil, fmt.Errorf("connection refused: %q", text)
		}
	}
	_ = ws.NetConn().SetReadDeadline(time.Time{})
	return s, nil
}

// read returns the next message the server emitted on the rpc event.
func (s *hostileSIO) read() ([]byte, error) {
	for {
		_, msg, err := s.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		text := string(msg)
		switch {
		case strings.HasPrefix(text, "1"): // Engine.IO close
			return nil, io.EOF
		case strings.HasPrefix(text, "41"): // socket.io disconnect
			return nil, fmt.Errorf("disconnected by the server: %w", io.EOF)
		case !strings.HasPrefix(text, "42"):
			continue // pongs
		}
		var args []json.RawMessage
		if err := json.Unmarshal([]byte(text[2:]), &args); err != nil {
			return nil, fmt.Errorf("event packet %.100q: %w", text, err)
		}
		var event, data string
		if len(args) != 2 || json.Unmarshal(args[0], &event) != nil || event != socketio.DefaultEvent ||
			json.Unmarshal(args[1], &data) != nil {
			return nil, fmt.Errorf("unexpected event packet %.100q", text)
		}
		if !s.armour {
			return []byte(data), nil
		}
		return base64.StdEncoding.DecodeString(data)
	}
}

// write emits msg on the rpc event. It pings the server now and then: an
// Engine.IO 3 server drops a client that has not pinged for its ping
// timeout.
func (s *hostileSIO) write(msg []byte) error {
	text := string(msg) // invalid UTF-8 becomes U+FFFD, as in a JS string
	if s.armour {
		text = base64.StdEncoding.EncodeToString(msg)
	}
	arg, err := json.Marshal(text)
	if err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.ws.NetConn().SetWriteDeadline(time.Now().Add(time.Minute))
	if time.Since(s.lastPing) > 5*time.Second {
		if err := s.ws.WriteMessage(rawws.OpText, []byte("2")); err != nil {
			return err
		}
		s.lastPing = time.Now()
	}
	packet := append(append([]byte(`42["`+socketio.DefaultEvent+`",`), arg...), ']')
	return s.ws.WriteMessage(rawws.OpText, packet)
}

// hostileTarget serves hostile.Service on the adapter of a go-socket.io
// server, and dials it with the raw client.
func hostileTarget(t *testing.T, c codec.Codec) hostile.Target {
	svc := hostile.NewService()
	f := newFixture(t, socketio.ServerOptions{PeerOptions: svc.PeerOptions()}, nil)
	return hostile.Target{
		Codec:   c,
		Service: svc,
		Dial: func(ctx context.Context) (hostile.Conn, error) {
			s, err := hostileDialSIO(ctx, f.url, c)
			if err != nil {
				return nil, err
			}
			return hostile.NewConn(s.read, s.write, s.ws.Close), nil
		},
		// go-socket.io reads whole packets; the adapter answers a
		// message over the peer's limit with -32600 and keeps the
		// connection.
		OversizeCloses: false,
		// go-socket.io's Engine.IO websocket wrapper starts a goroutine
		// (and a 30 s timer) for every frame it reads or writes, told to
		// end when the frame is closed. Under a flood of small messages,
		// hundreds of these have been told to end but not yet been
		// scheduled (up to 260 seen on 2 cores): a scheduling backlog,
		// not retained work. One kept per message would be one per
		// cancellation sent: 20,000 or more.
		FloodGoroutineSlack: 2000,
	}
}

// TestHostileJSON runs the hostile corpus, the call flood and the cancel
// flood (package internal/hostile) against the adapter over socket.io's
// websocket transport, in JSON: every case gets its answer (a message over
// the peer's limit: -32600), the connection stays usable, nothing panics,
// goroutines and heap stay bounded.
func TestHostileJSON(t *testing.T) { hostile.Run(t, hostileTarget(t, jsoncodec.Codec{})) }

// TestHostileCBOR is TestHostileJSON with CBOR as base64 text.
func TestHostileCBOR(t *testing.T) { hostile.Run(t, hostileTarget(t, cbor.Codec{})) }
