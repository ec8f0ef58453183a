package websocket_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// benchPayload is the call's one string param, echoed back.
var benchPayload = strings.Repeat("p", 64)

// BenchmarkRoundTrip measures a call's round trip over a loopback
// WebSocket, sequential and with 64 calls in flight, with each codec,
// next to a raw gorilla echo of a message of the same size as the call's
// request. Each Parley line also reports x-raw: its time per call divided
// by the raw echo's, measured in alternating chunks within the same run.
// "echo.inline" is the same handler marked [rpc.Inline];
// "echo.cancellable" calls "echo" with a context that can end (the others'
// cannot), which costs registering with the context.
func BenchmarkRoundTrip(b *testing.B) {
	raw := startRawEcho(b)
	r := rpc.NewRouter()
	echo := rpc.Func(func(_ context.Context, p []string) ([]string, error) { return p, nil })
	mustRegister(b, r, "echo", echo)
	mustRegister(b, r, "echo.inline", rpc.Inline(echo))
	ts := startServer(b, &websocket.ServerOptions{Handler: r})

	for _, inflight := range []int{1, 64} {
		for _, c := range codecs {
			size := requestSize(b, c)
			name := "inflight=" + strconv.Itoa(inflight) + "/"
			b.Run(name+"raw-"+c.Name()+"-"+strconv.Itoa(size)+"B", func(b *testing.B) {
				b.ReportAllocs()
				b.ResetTimer()
				raw.run(b, b.N, size, inflight)
			})
			for _, v := range []struct{ name, method string }{
				{"echo", "echo"}, {"echo.inline", "echo.inline"}, {"echo.cancellable", "echo"},
			} {
				method := v.method
				b.Run(name+c.Name()+"-"+v.name, func(b *testing.B) {
					p := dial(b, ts.url, &websocket.DialOptions{Codec: c})
					params := []string{benchPayload}
					ctx := context.Background()
					if v.name == "echo.cancellable" {
						var cancel context.CancelFunc
						ctx, cancel = context.WithCancel(ctx)
						defer cancel()
					}
					call := func() {
						var out []string
						if err := p.Call(ctx, method, params, &out); err != nil || len(out) != 1 {
							b.Errorf("%s: %v", method, err)
						}
					}
					b.ReportAllocs()
					compare(b, 512*inflight/min(inflight, 8),
						func(n int) { parallel(inflight, n, call) },
						func(n int) { raw.run(b, n, size, inflight) })
				})
			}
		}
	}
}

// compare times parley and raw over b.N messages each, alternating in
// chunks so that a change in the machine's load hits both alike; only
// parley counts in ns/op, and x-raw is parley's time over raw's.
func compare(b *testing.B, chunk int, parley, raw func(n int)) {
	var tp, tr time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(chunk, b.N-done)
		start := time.Now()
		parley(n)
		tp += time.Since(start)
		b.StopTimer()
		start = time.Now()
		raw(n)
		tr += time.Since(start)
		b.StartTimer()
		done += n
	}
	b.ReportMetric(float64(tp)/float64(tr), "x-raw")
}

// parallel runs f n times, from k goroutines at once.
func parallel(k, n int, f func()) {
	if k == 1 {
		for range n {
			f()
		}
		return
	}
	var wg sync.WaitGroup
	for i := range k {
		share := n / k
		if i < n%k {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				f()
			}
		}()
	}
	wg.Wait()
}

// requestSize is the size of the benchmark's call request with codec c.
func requestSize(b *testing.B, c codec.Codec) int {
	params, err := c.Marshal([]string{benchPayload})
	if err != nil {
		b.Fatal(err)
	}
	msg, err := c.AppendMessage(nil, &codec.Message{ID: codec.Int(12345), Method: "echo", Params: params})
	if err != nil {
		b.Fatal(err)
	}
	return len(msg)
}

// rawEcho is a plain gorilla echo server and one client connection to it:
// the baseline a call's round trip is compared with.
type rawEcho struct {
	ws *gorilla.Conn
}

func startRawEcho(b *testing.B) *rawEcho {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if err := ws.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	}))
	ws, _, err := gorilla.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = ws.Close()
		hs.Close()
	})
	return &rawEcho{ws: ws}
}

// run echoes n messages of size bytes, keeping up to inflight of them
// outstanding: one writer, one reader, as a raw gorilla program would.
func (e *rawEcho) run(b *testing.B, n, size, inflight int) {
	msg := []byte(strings.Repeat("r", size))
	if inflight == 1 {
		for range n {
			if err := e.ws.WriteMessage(gorilla.TextMessage, msg); err != nil {
				b.Fatal(err)
			}
			if _, _, err := e.ws.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	slots := make(chan struct{}, inflight)
	werr := make(chan error, 1)
	go func() {
		for range n {
			slots <- struct{}{}
			if err := e.ws.WriteMessage(gorilla.TextMessage, msg); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for range n {
		if _, _, err := e.ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
		<-slots
	}
	if err := <-werr; err != nil {
		b.Fatal(err)
	}
}
