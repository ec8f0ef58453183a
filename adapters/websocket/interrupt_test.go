package websocket

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/codec/json"
)

// messageSizes covers each length encoding of a frame header (7-bit,
// 16-bit, 64-bit) and its edges; with a small write buffer the big ones
// go out in many fragments.
var messageSizes = []int{0, 1, 125, 126, 127, 500, 65535, 65536, 70000, 3, 0, 2000}

// testMessage is message i of the stream: its size, and a pattern that
// tells it from its neighbours.
func testMessage(i int) []byte {
	m := make([]byte, messageSizes[i%len(messageSizes)])
	for j := range m {
		m[j] = byte('a' + (i+j)%26)
	}
	return m
}

// A reader interrupted at random moments, blocked in the kernel or not,
// in the middle of frames and of fragmented messages or between them, gets
// every message intact and in order; the messages the netConn made up are
// known for what they are and dropped. Both sides: a client's netConn
// reads a server's frames, and a server's a client's (masked).
func TestInterruptKeepsTheStream(t *testing.T) {
	for _, serverReads := range []bool{false, true} {
		name := "client reads"
		if serverReads {
			name = "server reads"
		}
		t.Run(name, func(t *testing.T) {
			type end struct {
				ws *websocket.Conn
				nc *netConn
			}
			served := make(chan end, 1)
			up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 512}
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hj := &hijacker{ResponseWriter: w}
				ws, err := up.Upgrade(hj, r, nil)
				if err != nil {
					return
				}
				served <- end{ws, hj.nc}
			}))
			defer hs.Close()
			var cnc *netConn
			d := websocket.Dialer{WriteBufferSize: 512, NetDialContext: wrapDial(new(net.Dialer).DialContext, &cnc)}
			cws, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			cnc.framed = true
			srv := <-served
			defer cws.Close()
			defer srv.ws.Close()

			reader, writer := end{cws, cnc}, srv.ws
			if serverReads {
				reader, writer = srv, cws
			}
			const n = 400
			go func() {
				rng := rand.New(rand.NewPCG(1, 2))
				for i := range n {
					w, err := writer.NextWriter(websocket.BinaryMessage)
					if err != nil {
						return
					}
					msg := testMessage(i)
					for len(msg) > 0 { // in pieces, with pauses, so that reads block mid-frame
						k := min(len(msg), 1+rng.IntN(3000))
						if _, err := w.Write(msg[:k]); err != nil {
							return
						}
						msg = msg[k:]
						if rng.IntN(4) == 0 {
							time.Sleep(time.Duration(rng.IntN(300)) * time.Microsecond)
						}
					}
					if err := w.Close(); err != nil {
						return
					}
					if i%50 == 0 {
						_ = writer.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second))
					}
				}
			}()

			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // the interrupts, as contexts ending would make them
				defer wg.Done()
				rng := rand.New(rand.NewPCG(3, 4))
				for {
					select {
					case <-stop:
						return
					default:
					}
					gen := reader.nc.arm()
					time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
					reader.nc.interrupt(gen)
					time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
					reader.nc.disarm(gen)
				}
			}()
			defer func() { close(stop); wg.Wait() }()

			tc := newConn(reader.ws, reader.nc, json.Codec{}, link{})
			made := 0
			for i := 0; i < n; {
				msg, err := tc.next()
				if err == errInterrupted {
					made++
					continue
				}
				if msg == nil {
					t.Fatalf("message %d: the link failed: %v", i, err)
				}
				if want := testMessage(i); !bytes.Equal(msg, want) {
					t.Fatalf("message %d: %d bytes, want %d (%q...)", i, len(msg), len(want), msg[:min(len(msg), 20)])
				}
				i++
			}
			if made == 0 {
				t.Error("no reading was interrupted")
			}
			t.Logf("%d messages, %d interrupts carried out", n, made)
		})
	}
}

// FuzzFrameTracker: the tracker follows any stream, valid or not, without
// failing, and reaches the same state however the stream is cut into
// reads.
func FuzzFrameTracker(f *testing.F) {
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello\x01\x02ab\x80\x01c"), uint8(3), false)
	f.Add([]byte("\x82\xfe\x00\x02\x01\x02\x03\x04xy\x89\x80\x00\x00\x00\x00\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x01z"), uint8(1), true)
	f.Fuzz(func(t *testing.T, stream []byte, cut uint8, server bool) {
		whole := frameTracker{inHTTP: !server}
		whole.feed(stream)
		pieces := frameTracker{inHTTP: !server}
		step := int(cut%16) + 1
		for i := 0; i < len(stream); i += step {
			pieces.feed(stream[i:min(i+step, len(stream))])
		}
		if whole != pieces {
			t.Fatalf("whole: %+v\nin pieces of %d: %+v", whole, step, pieces)
		}
	})
}

// The tracker counts messages at their final frame and knows when the
// stream is between two of them.
func TestFrameTracker(t *testing.T) {
	f := frameTracker{inHTTP: true}
	steps := []struct {
		in       string
		boundary bool
		messages uint64
	}{
		{"HTTP/1.1 101 Switching Protocols\r\n", false, 0},
		{"Upgrade: websocket\r\n\r", false, 0},
		{"\n", true, 0},
		{"\x81", false, 0},             // a text frame's first header byte
		{"\x05hel", false, 1},          // counted at its header
		{"lo", true, 1},                // complete
		{"\x02\x02ab", false, 1},       // first fragment of a binary message
		{"\x89\x01p", false, 1},        // a ping between fragments
		{"\x80\x7e\x00\x01", false, 2}, // final fragment, 16-bit length
		{"c", true, 2},
		{"\x82\x80\x01\x02\x03\x04", true, 3}, // empty and masked
	}
	for i, s := range steps {
		f.feed([]byte(s.in))
		if f.atBoundary() != s.boundary || f.messages != s.messages {
			t.Fatalf("step %d (%q): boundary %v, messages %d; want %v, %d", i, s.in, f.atBoundary(), f.messages, s.boundary, s.messages)
		}
	}
}
