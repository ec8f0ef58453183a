package socketio4_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/socketio4"
	jsoncodec "github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
	"github.com/parleyrpc/parley/internal/rawws"
	"github.com/parleyrpc/parley/rpc"
)

// TestHostilePackets: malformed socket.io packets, binary placeholders
// without attachments, attachment counts out of range, payloads on the
// event that are not messages, oversize messages and calls, over a raw
// WebSocket (no client library on the other side). Each either gets an
// error answer or closes that connection; none panics; the server keeps
// serving fresh connections, and the goroutine check of TestMain sees
// nothing left behind.
func TestHostilePackets(t *testing.T) {
	f := newFixture(t, socketio4.ServerOptions{
		Handler:     testRouter(nil),
		PeerOptions: []rpc.Option{rpc.WithMaxMessageSize(1 << 10)},
	}, nil, nil)
	big := strings.Repeat("x", 2<<10)
	cases := []struct {
		name, packet string
		answer       string // a substring of the answer, or "" for none expected
	}{
		{"not json", `42["rpc","{not json"]`, `-32700`},
		{"number", `42["rpc",7]`, `-32600`},
		{"object", `42["rpc",{"a":1}]`, `-32600`},
		{"no argument", `42["rpc"]`, `-32600`},
		{"oversize message", `42["rpc","` + big + `"]`, `-32600`},
		{"oversize call", `421["add","` + big + `"]`, `-32600`},
		{"bad params", `421["add","x",{}]`, `-32602`},
		{"placeholder without attachment", `42["rpc",{"_placeholder":true,"num":0}]`, ""},
		{"binary count too large", `451-["rpc",{"_placeholder":true,"num":0}]`, ""},
		{"placeholder out of range", `451-["rpc",{"_placeholder":true,"num":99}]`, ""},
		{"truncated", `42["rpc",`, ""},
		{"deep nesting", `42["rpc",` + strings.Repeat("[", 50000) + strings.Repeat("]", 50000) + `]`, ""},
		{"bad type", `9`, ""},
		{"ack for nothing", `4399["x"]`, ""},
		{"unknown event", `42["nobody listens",1]`, ""},
		{"reserved name", `421["$/cancelRequest",{"id":1}]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ws := f.dialRaw(t, ctx)
			defer ws.Close()
			if err := ws.WriteMessage(1, []byte(c.packet)); err != nil {
				t.Fatal(err)
			}
			// A real call after it: answered unless the connection closed.
			_ = ws.WriteMessage(1, []byte(`427["add",1,2]`))
			var got []string
			real, answered := false, c.answer == ""
			for !real || !answered {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					break // closed: allowed, except where an answer was due
				}
				got = append(got, string(msg))
				real = real || string(msg) == "437[3]"
				answered = answered || strings.Contains(string(msg), c.answer)
			}
			all := strings.Join(got, " | ")
			if c.answer != "" && !strings.Contains(all, c.answer) {
				t.Errorf("no answer with %s: %s", c.answer, all)
			}
		})
	}
	// The server still serves.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := f.dialRaw(t, ctx)
	defer ws.Close()
	_ = ws.WriteMessage(1, []byte(`420["add",40,2]`))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after the hostile packets: %v", err)
		}
		if string(msg) == "430[42]" {
			break
		}
	}
}

// dialRaw opens a raw WebSocket Engine.IO 4 session, connects to "/" and
// waits for the server to have the socket's peer. The wait is for the
// library: it writes its CONNECT answer before it records the socket
// (zishang520/socket.io v3.0.6, Client.doConnect after _onconnect), and
// closes a connection whose event comes in between ("invalid state");
// a raw client that writes at once, under -race, often does.
func (f *fixture) dialRaw(t *testing.T, ctx context.Context) *rawws.Conn {
	t.Helper()
	u := "ws" + strings.TrimPrefix(f.url, "http") + "/socket.io/?EIO=4&transport=websocket"
	ws, err := rawws.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = ws.NetConn().SetReadDeadline(dl)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "0") {
		t.Fatalf("open packet: %q, %v", msg, err)
	}
	_ = ws.WriteMessage(1, []byte("40"))
	var sid string
	for sid == "" {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("connect packet: %v", err)
		}
		var connect struct{ Sid string }
		if rest, ok := strings.CutPrefix(string(msg), "40"); ok && json.Unmarshal([]byte(rest), &connect) == nil {
			sid = connect.Sid
		}
	}
	for {
		if _, ok := f.peers.Get(sid); ok {
			return ws
		}
		if ctx.Err() != nil {
			t.Fatalf("no peer for socket %s: %v", sid, ctx.Err())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestHostileUnreadFlood: a raw client floods calls, notifications and
// batches on the "rpc" event and never reads (internal/hostile's
// UnreadFlood): the server's goroutines and heap stay bounded, another
// client keeps its answers, nothing is left once the flooder has gone.
func TestHostileUnreadFlood(t *testing.T) {
	svc := hostile.NewService()
	f := newFixture(t, socketio4.ServerOptions{Handler: svc.Handler(), PeerOptions: svc.PeerOptions()}, nil, nil)
	hostile.UnreadFlood(t, hostile.Target{
		Codec:   jsoncodec.Codec{},
		Service: svc,
		Dial: func(ctx context.Context) (hostile.Conn, error) {
			ws := f.dialRaw(t, ctx)
			_ = ws.NetConn().SetReadDeadline(time.Time{})
			read := func() ([]byte, error) {
				for {
					_, pkt, err := ws.ReadMessage()
					if err != nil {
						return nil, err
					}
					if string(pkt) == "2" { // Engine.IO ping
						_ = ws.WriteMessage(1, []byte("3"))
						continue
					}
					var args []json.RawMessage
					if !strings.HasPrefix(string(pkt), "42") || json.Unmarshal(pkt[2:], &args) != nil || len(args) != 2 {
						continue // not a message on the event
					}
					var msg string
					if json.Unmarshal(args[1], &msg) != nil {
						continue
					}
					return []byte(msg), nil
				}
			}
			write := func(msg []byte) error {
				s, err := json.Marshal(string(msg))
				if err != nil {
					return err
				}
				return ws.WriteMessage(1, append(append([]byte(`42["rpc",`), s...), ']'))
			}
			return hostile.NewConn(read, write, ws.Close), nil
		},
	})
}
