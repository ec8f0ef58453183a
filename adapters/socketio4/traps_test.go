package socketio4_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

// The traps of zishang520/socket.io v3.0.6 that the adapter contains, one
// test each (see the package documentation). Each was checked to fail
// with its containment removed.

// TestTraps: (1) a socket's events are handled one at a time, so a call
// whose handler waits for the socket's next call must not run on the
// socket's event loop: "block" returns only once "release" has run; (2)
// many concurrent server-to-client calls on one socket, alongside the
// application's own concurrent Timeout(...).EmitWithAck on the same
// socket, all complete (Timeout writes per-socket flags that Emit reads
// and resets: an adapter that used them would race with the application
// and lose its timeouts).
func TestTraps(t *testing.T) {
	const calls = 200
	release := make(chan struct{})
	var once sync.Once
	r := testRouter(nil)
	r.Register("block", rpc.Func(func(ctx context.Context, _ any) (string, error) {
		select {
		case <-release:
			return "unblocked", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}))
	r.Register("release", rpc.Func(func(context.Context, any) (string, error) {
		once.Do(func() { close(release) })
		return "released", nil
	}))
	var mulOK, pingOK atomic.Int32
	f := newFixture(t, socketio4.ServerOptions{
		Handler: r,
		OnConnect: func(p *rpc.Peer, s *socket.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			var appMu sync.Mutex // the application's own lock: Timeout races with itself
			for i := range calls {
				wg.Add(2)
				go func() {
					defer wg.Done()
					if n, err := rpc.Call[int](ctx, p, "mul", []int{i, 2}); err == nil && n == 2*i {
						mulOK.Add(1)
					}
				}()
				go func() {
					defer wg.Done()
					done := make(chan struct{})
					appMu.Lock()
					s.Timeout(10*time.Second).EmitWithAck("ping", i)(func(res []any, err error) {
						if err == nil && len(res) == 1 && res[0] == float64(i) {
							pingOK.Add(1)
						}
						close(done)
					})
					appMu.Unlock()
					select {
					case <-done:
					case <-ctx.Done():
					}
				}()
			}
			wg.Wait()
			_ = p.Notify(ctx, "bye", []string{"done"})
		},
	}, nil, nil)
	var sum struct{ Blocked, Released, Bye string }
	lastJSON(t, node(t, 40*time.Second, "traps.mjs", f.url), &sum)
	if sum.Blocked != "unblocked" || sum.Released != "released" {
		t.Errorf("block %q, release %q: a call waiting for the socket's next call held up the socket", sum.Blocked, sum.Released)
	}
	if mulOK.Load() != calls || pingOK.Load() != calls {
		t.Errorf("of %d concurrent calls and %d application acks, %d and %d completed", calls, calls, mulOK.Load(), pingOK.Load())
	}
}

// TestChunkedPostOverLimit: the engine reads a polling POST without a
// Content-Length only up to maxHttpBufferSize and handles what it read as
// the whole payload, answering 200: the packets past the cut are lost
// and the client believes them sent. The adapter's engine middleware
// refuses such a body instead (400), and nothing of it reaches the peer.
func TestChunkedPostOverLimit(t *testing.T) {
	const limit = 2000
	sopts := serverOpts()
	sopts.SetMaxHttpBufferSize(limit)
	sopts.SetPingInterval(5 * time.Second)
	sopts.SetPingTimeout(5 * time.Second)
	notes := make(chan string, 100)
	f := newFixture(t, socketio4.ServerOptions{Handler: testRouter(notes)}, sopts, nil)
	base := f.url + "/socket.io/?EIO=4&transport=polling"
	// Handshake, then connect to "/" and read the connect packet.
	body := get(t, base)
	i := strings.Index(body, `"sid":"`)
	if i < 0 {
		t.Fatalf("handshake: %q", body)
	}
	sid := body[i+7:]
	sid = sid[:strings.IndexByte(sid, '"')]
	url := base + "&sid=" + sid
	if code, _ := post(t, url, "40", false); code != 200 {
		t.Fatalf("connect: %d", code)
	}
	if b := get(t, url); !strings.HasPrefix(b, "40") {
		t.Fatalf("connect packet: %q", b)
	}
	f.waitPeers(t, 1)

	// One small notification (a socket.io event the router serves),
	// then a payload of notifications that goes over the limit.
	packet := func(n int) string { return fmt.Sprintf(`42["note","%04d"]`, n) }
	if code, _ := post(t, url, packet(0), true); code != 200 {
		t.Fatalf("small chunked POST: %d", code)
	}
	if n := <-notes; n != "0000" {
		t.Fatalf("note %q", n)
	}
	var big []string
	for n := 1; len(strings.Join(big, "\x1e")) < 2*limit; n++ {
		big = append(big, packet(n))
	}
	code, _ := post(t, url, strings.Join(big, "\x1e"), true)
	if code == 200 {
		t.Errorf("a chunked POST of %d bytes over the limit of %d was taken (200): its packets past the limit are lost",
			len(strings.Join(big, "\x1e")), limit)
	}
	select {
	case n := <-notes:
		t.Errorf("a notification of the refused payload arrived: %q", n)
	case <-time.After(200 * time.Millisecond): // nothing may arrive; no event says so
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// post sends body, chunked (no Content-Length) if asked.
func post(t *testing.T, url, body string, chunked bool) (int, string) {
	t.Helper()
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = bufio.NewReader(r) // hides the length from net/http
	}
	req, err := http.NewRequest("POST", url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
