package websocket_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"
)

// BenchmarkHandoffFloor measures what goroutine hand-offs cost a round
// trip, with no RPC code at all: raw gorilla echoes where the client's
// answer is read by a reader goroutine and handed to the waiting caller
// over a channel, and where, besides, the server answers from a goroutine
// started per message. x-raw is the time per round trip over the plain
// echo's, in the same run.
//
// The second has the hand-offs of a Parley call, whose answer the read
// loop hands to the caller and whose handler runs on a goroutine of its
// own; the first, those of an rpc.Inline call. Compare them with
// BenchmarkRoundTrip's echo and echo.inline in the same run. They are
// not strict floors: how much a hand-off costs depends on where the
// runtime's woken threads run, and on some machines an rpc.Inline call
// measured below the first.
func BenchmarkHandoffFloor(b *testing.B) {
	raw := startRawEcho(b)
	size := 129
	for _, tc := range []struct {
		name         string
		serverSpawns bool
	}{{"client-reader", false}, {"client-reader+server-goroutine", true}} {
		b.Run(tc.name, func(b *testing.B) {
			ws := dialFloorEcho(b, tc.serverSpawns)
			answers := make(chan []byte, 1)
			go func() {
				for {
					_, msg, err := ws.ReadMessage()
					if err != nil {
						close(answers)
						return
					}
					answers <- msg
				}
			}()
			msg := []byte(strings.Repeat("r", size))
			b.ReportAllocs()
			compare(b, 512, func(n int) {
				for range n {
					if err := ws.WriteMessage(gorilla.TextMessage, msg); err != nil {
						b.Fatal(err)
					}
					if _, ok := <-answers; !ok {
						b.Fatal("closed")
					}
				}
			}, func(n int) { raw.run(b, n, size, 1) })
		})
	}
}

// dialFloorEcho starts a raw gorilla echo server, answering each message
// from its read loop or, with spawn, from a goroutine started for it, and
// dials it.
func dialFloorEcho(b *testing.B, spawn bool) *gorilla.Conn {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		wl := make(chan struct{}, 1)
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if !spawn {
				if ws.WriteMessage(typ, msg) != nil {
					return
				}
				continue
			}
			go func() {
				wl <- struct{}{}
				_ = ws.WriteMessage(typ, msg)
				<-wl
			}()
		}
	}))
	ws, _, err := gorilla.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ws.Close(); hs.Close() })
	return ws
}
