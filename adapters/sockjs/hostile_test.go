package sockjs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
)

// hostileReadLimit is the read limit of the hostile tests' endpoint: room
// for the corpus's largest message (4 MiB and a byte, as base64 on the
// CBOR endpoint), far below the default of four times the peer's limit.
const hostileReadLimit = 8 << 20

// hostileTarget serves hostile.Service on a SockJS endpoint with codec c
// and dials its raw websocket endpoint (prefix/websocket) with the tests'
// own WebSocket client, one text frame per message, base64 for CBOR.
func hostileTarget(t *testing.T, c codec.Codec) hostile.Target {
	svc := hostile.NewService()
	srv, err := sockjs.NewServer(&sockjs.ServerOptions{
		Codec:       c,
		PeerOptions: svc.PeerOptions(),
		ReadLimit:   hostileReadLimit,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/hostile/", srv.Handler("/hostile", envOptions()))
	hs := newHTTPServer(t, mux)
	t.Cleanup(func() { srv.Close() }) // runs before the HTTP server's close
	url := "ws" + hs.URL[len("http"):] + "/hostile/websocket"
	armour := c.Binary()
	return hostile.Target{
		Codec:   c,
		Service: svc,
		Dial: func(ctx context.Context) (hostile.Conn, error) {
			ws, err := dialWS(ctx, url, nil)
			if err != nil {
				return nil, err
			}
			read := func() ([]byte, error) {
				for {
					msg, err := ws.ReadText()
					if err != nil {
						return nil, err
					}
					if len(msg) == 0 {
						// sockjs-go sends an empty text frame (the close
						// frame of a session closed without a code) just
						// before it drops a raw websocket connection whose
						// read failed. No message of the peer is empty.
						continue
					}
					if !armour {
						return msg, nil
					}
					return base64.StdEncoding.AppendDecode(nil, msg)
				}
			}
			write := func(msg []byte) error {
				if armour {
					msg = base64.StdEncoding.AppendEncode(nil, msg)
				}
				_ = ws.NetConn().SetWriteDeadline(time.Now().Add(time.Minute))
				return ws.WriteText(msg)
			}
			return hostile.NewConn(read, write, ws.Close), nil
		},
		// The peer's limit is checked after sockjs-go has read the
		// message: -32600, and the session stays up.
		OversizeCloses: false,
	}
}

// hostileReadLimitCases: a message over the endpoint's read limit makes
// the transport drop the connection before the peer sees it; a new
// connection works.
func hostileReadLimitCases(c codec.Codec) []hostile.Case {
	return []hostile.Case{{
		Name:  "beyond the read limit",
		Build: func() []byte { return bytes.Repeat([]byte{'x'}, hostileReadLimit+1) },
		Want:  hostile.Want{Kind: hostile.Closed},
	}, {
		Name: "a call on a new connection",
		Build: func() []byte {
			params, _ := c.Marshal([]int{1, 2})
			msg, _ := c.AppendMessage(nil, &codec.Message{Method: "add", Params: params, ID: codec.Int(1)})
			return msg
		},
		Want: hostile.Want{Kind: hostile.Answer, ID: codec.Int(1), Result: 3},
	}}
}

// TestHostileJSON runs the hostile corpus, the call flood and the cancel
// flood (package internal/hostile) against a JSON SockJS endpoint over its
// raw websocket: every case gets its answer (a message over the peer's
// limit included: -32600), the session stays usable, nothing panics,
// goroutines and heap stay bounded. Then a message beyond the read limit
// drops the connection, and the next one works.
func TestHostileJSON(t *testing.T) {
	tg := hostileTarget(t, json.Codec{})
	hostile.Run(t, tg)
	hostile.RunCases(t, tg, hostileReadLimitCases(tg.Codec))
}

// TestHostileCBOR is TestHostileJSON on a CBOR endpoint (base64 text).
func TestHostileCBOR(t *testing.T) {
	tg := hostileTarget(t, cbor.Codec{})
	hostile.Run(t, tg)
	hostile.RunCases(t, tg, hostileReadLimitCases(tg.Codec))
}
