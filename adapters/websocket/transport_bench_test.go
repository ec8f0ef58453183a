package websocket

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/codec/json"
)

// BenchmarkTransportEcho takes the rpc layer out of the round trip, to
// show what the transport itself costs next to a raw gorilla echo (see
// BenchmarkRoundTrip in the external tests for the full comparison).
//
//   - inline: the server echoes from inside OnMessage, on the read loop,
//     and the client's read loop hands the answer to the caller through a
//     channel (one goroutine hand-off per round trip, as a Peer's caller
//     has);
//   - spawn: the server echoes from a new goroutine per message, as a
//     Peer runs each call's handler (two hand-offs per round trip).
func BenchmarkTransportEcho(b *testing.B) {
	for _, mode := range []string{"inline", "spawn"} {
		b.Run(mode, func(b *testing.B) {
			client, stop := transportPair(b, mode)
			defer stop()
			msg := []byte(strings.Repeat("m", 129))
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := client.t.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				<-client.ch
			}
		})
	}
}

type echoInbound struct {
	t    *conn
	mode string
}

func (e *echoInbound) OnMessage(m []byte) {
	if e.mode == "spawn" {
		go func() { _ = e.t.Send(context.Background(), m) }()
		return
	}
	_ = e.t.Send(context.Background(), m)
}
func (e *echoInbound) OnClose(error)       {}
func (e *echoInbound) MaxMessageSize() int { return 1 << 20 }

type chanInbound struct {
	t      *conn
	ch     chan []byte
	closed chan struct{}
}

func (c *chanInbound) OnMessage(m []byte) { c.ch <- m }
func (c *chanInbound) OnClose(error)      { close(c.closed) }
func (c *chanInbound) MaxMessageSize() int {
	return 1 << 20
}

func transportPair(b *testing.B, mode string) (*chanInbound, func()) {
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferPool: writeBufs}
	served := make(chan *conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj := &hijacker{ResponseWriter: w}
		ws, err := up.Upgrade(hj, r, nil)
		if err != nil {
			return
		}
		t := newConn(ws, hj.nc, json.Codec{}, link{writeTimeout: DefaultWriteTimeout})
		t.Start(&echoInbound{t: t, mode: mode})
		served <- t
	}))
	d, err := newDialer("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	var nc *netConn
	gd := d.d
	gd.NetDialContext = wrapDial(new(net.Dialer).DialContext, &nc)
	ws, _, err := gd.Dial(d.url, nil)
	if err != nil {
		b.Fatal(err)
	}
	t := newConn(ws, nc, json.Codec{}, link{writeTimeout: DefaultWriteTimeout})
	in := &chanInbound{t: t, ch: make(chan []byte, 1), closed: make(chan struct{})}
	t.Start(in)
	st := <-served
	return in, func() {
		_ = t.Close()
		_ = st.Close()
		<-in.closed
		hs.Close()
		time.Sleep(10 * time.Millisecond)
	}
}
