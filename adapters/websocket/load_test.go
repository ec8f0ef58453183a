package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// loadSoakEnv names the environment variable that turns TestLoad into a
// soak: PARLEY_SOAK=10m runs the load for ten minutes.
const loadSoakEnv = "PARLEY_SOAK"

// loadClientHeader carries a client's index in the handshake, so that the
// server can tell which peer is which client.
const loadClientHeader = "X-Load-Client"

// loadAnswer is the result of a load call for a token: unique per call, so
// that an answer given to the wrong call is caught.
func loadAnswer(tok int64) int64 { return tok*7 + 3 }

// loadBits is a set of tokens, safe for concurrent use, that grows by
// pages: a soak makes millions of calls, one bit each.
type loadBits struct {
	pages [1 << 14]atomic.Pointer[loadPage]
}

type loadPage [1 << 10]atomic.Uint64 // 1<<16 tokens

// add puts tok in the set and reports whether it was there already.
func (b *loadBits) add(tok int64) (dup bool) {
	pi, bit := tok>>16, uint64(1)<<(tok&63)
	p := b.pages[pi].Load()
	if p == nil {
		b.pages[pi].CompareAndSwap(nil, new(loadPage))
		p = b.pages[pi].Load()
	}
	return p[(tok>>6)&(1<<10-1)].Or(bit)&bit != 0
}

// loadDir is the bookkeeping of one direction of calls.
type loadDir struct {
	name string
	next atomic.Int64 // last token issued

	sent       atomic.Int64 // calls started
	answered   atomic.Int64 // calls that got their own result
	failed     atomic.Int64 // calls that returned an error
	mismatched atomic.Int64 // calls that got another call's result
	runs       atomic.Int64 // handler runs
	duplicates atomic.Int64 // handler runs for a token that had run already
	misrouted  atomic.Int64 // handler runs on a connection the call was not made on
	seen       loadBits     // tokens whose handler ran

	errMu    sync.Mutex
	firstErr error
}

// call makes one call of method on p, on connection conn, and counts it.
func (d *loadDir) call(p *rpc.Peer, method string, conn int64) {
	tok := d.next.Add(1)
	d.sent.Add(1)
	// The deadline only turns a lost call into a failure instead of a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got int64
	err := p.Call(ctx, method, [2]int64{tok, conn}, &got)
	switch {
	case err != nil:
		d.failed.Add(1)
		d.errMu.Lock()
		if d.firstErr == nil {
			d.firstErr = fmt.Errorf("call %d on connection %d: %w", tok, conn, err)
		}
		d.errMu.Unlock()
	case got != loadAnswer(tok):
		d.mismatched.Add(1)
	default:
		d.answered.Add(1)
	}
}

// handler serves the calls of this direction on connection conn (-1: look
// the connection up from the calling peer with connOf).
func (d *loadDir) handler(conn int64, connOf func(*rpc.Peer) int64) rpc.Handler {
	return rpc.Func(func(ctx context.Context, p [2]int64) (int64, error) {
		d.runs.Add(1)
		if d.seen.add(p[0]) {
			d.duplicates.Add(1)
		}
		here := conn
		if connOf != nil {
			here = connOf(rpc.PeerFromContext(ctx))
		}
		if here != p[1] {
			d.misrouted.Add(1)
		}
		return loadAnswer(p[0]), nil
	})
}

// check fails the test unless every call of this direction was answered
// once, with its own result, by a handler that ran once on the right
// connection.
func (d *loadDir) check(t *testing.T) {
	t.Helper()
	sent, answered, runs := d.sent.Load(), d.answered.Load(), d.runs.Load()
	if d.failed.Load() != 0 || d.mismatched.Load() != 0 || d.duplicates.Load() != 0 ||
		d.misrouted.Load() != 0 || answered != sent || runs != sent {
		t.Errorf("%s: %d sent, %d answered, %d failed (first: %v), %d mismatched, %d handler runs, %d duplicated, %d misrouted",
			d.name, sent, answered, d.failed.Load(), d.firstErr, d.mismatched.Load(), runs, d.duplicates.Load(), d.misrouted.Load())
	}
}

// String gives the figures once the calls have all returned: a call
// neither answered nor failed by then is lost.
func (d *loadDir) String() string { return d.figures("lost") }

// figures gives the figures, naming the calls not yet answered.
func (d *loadDir) figures(unanswered string) string {
	return fmt.Sprintf("%s: %d calls sent, %d answered, %d %s, %d duplicated, %d mismatched, %d misrouted, %d failed",
		d.name, d.sent.Load(), d.answered.Load(), d.sent.Load()-d.answered.Load()-d.failed.Load()-d.mismatched.Load(),
		unanswered, d.duplicates.Load(), d.mismatched.Load(), d.misrouted.Load(), d.failed.Load())
}

// loadCodecs alternate between clients.
var loadCodecs = []codec.Codec{json.Codec{}, cbor.Codec{}}

// loadDuration is how long the calls run: 2s, or PARLEY_SOAK.
func loadDuration(t *testing.T) (time.Duration, bool) {
	s := os.Getenv(loadSoakEnv)
	if s == "" {
		if testing.Short() {
			return time.Second, false
		}
		return 2 * time.Second, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a duration such as 10m", loadSoakEnv, s)
	}
	return d, true
}

// TestLoad: 1,000 WebSocket connections on loopback, half JSON and half
// CBOR, each making calls to the server while the server calls each of
// them, for a bounded time (PARLEY_SOAK=10m for a soak). Every call
// carries a unique token; the test counts requests, answers and handler
// runs per direction and fails on any call lost, failed, answered with
// another call's result, run twice, or run on the wrong connection. At
// the end every connection is closed and (leakcheck) no goroutine is left.
func TestLoad(t *testing.T) {
	conns := 1000
	if testing.Short() {
		conns = 200
	}
	dur, soak := loadDuration(t)
	up := &loadDir{name: "client->server"}
	down := &loadDir{name: "server->client"}

	// The server maps each peer to its client's index (from the
	// handshake), for the routing check and for calling each client.
	var (
		mu      sync.Mutex
		byPeer  = make(map[*rpc.Peer]int64, conns)
		servers = make([]*rpc.Peer, conns)
		joined  = make(chan struct{}, conns)
	)
	connOf := func(p *rpc.Peer) int64 {
		mu.Lock()
		defer mu.Unlock()
		if i, ok := byPeer[p]; ok {
			return i
		}
		return -1
	}
	router := rpc.NewRouter()
	mustRegister(t, router, "up", up.handler(-1, connOf))
	ts := startServer(t, &websocket.ServerOptions{
		Handler: router,
		OnConnect: func(p *rpc.Peer, r *http.Request) {
			i, err := strconv.Atoi(r.Header.Get(loadClientHeader))
			if err != nil || i < 0 || i >= conns {
				t.Errorf("connection with a bad index %q", r.Header.Get(loadClientHeader))
				return
			}
			mu.Lock()
			byPeer[p], servers[i] = int64(i), p
			mu.Unlock()
			joined <- struct{}{}
		},
	})

	start := time.Now()
	clients := loadDial(t, ts.url, conns, down)
	for range conns {
		select {
		case <-joined:
		case <-time.After(30 * time.Second):
			t.Fatal("the server did not see every connection")
		}
	}
	t.Logf("%d connections dialled in %v", conns, time.Since(start).Round(time.Millisecond))

	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	g0 := runtime.NumGoroutine()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Each client calls the server in a loop.
	for i, p := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadRunning(stop) {
				up.call(p, "up", int64(i))
			}
		}()
	}
	// The server calls every client: a caller per two connections, in
	// turn, keeps the goroutine count within the race detector's limit.
	const perCaller = 2
	for first := 0; first < conns; first += perCaller {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadRunning(stop) {
				for i := first; i < min(first+perCaller, conns); i++ {
					down.call(servers[i], "down", int64(i))
				}
			}
		}()
	}
	began := time.Now()
	loadWait(t, soak, dur, stop, up, down)
	wg.Wait()
	elapsed := time.Since(began)
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)

	for _, d := range []*loadDir{up, down} {
		t.Logf("%v (%.0f calls/s)", d, float64(d.sent.Load())/elapsed.Seconds())
		d.check(t)
	}
	t.Logf("%d connections held for %v: %d calls in all (%.0f calls/s); goroutines %d -> %d; heap in use %d MiB -> %d MiB",
		conns, elapsed.Round(time.Millisecond), up.sent.Load()+down.sent.Load(),
		float64(up.sent.Load()+down.sent.Load())/elapsed.Seconds(),
		g0, runtime.NumGoroutine(), ms0.HeapInuse>>20, ms1.HeapInuse>>20)
	for i, p := range clients {
		if err := p.Err(); err != nil {
			t.Errorf("client %d ended during the load: %v", i, err)
		}
	}

	// Close every client; every server connection must end.
	closeStart := time.Now()
	loadEach(conns, 64, func(i int) { _ = clients[i].Close() })
	waitFor(t, "every server connection to close", func() bool { return ts.Len() == 0 })
	for i, p := range servers {
		select {
		case <-p.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("server peer %d did not end", i)
		}
	}
	t.Logf("%d connections closed in %v", conns, time.Since(closeStart).Round(time.Millisecond))
}

// loadRunning reports whether the load is still on.
func loadRunning(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return false
	default:
		return true
	}
}

// loadWait lets the load run for dur, then stops it; during a soak it logs
// progress every half minute.
func loadWait(t *testing.T, soak bool, dur time.Duration, stop chan struct{}, dirs ...*loadDir) {
	end := time.After(dur)
	var tick <-chan time.Time
	if soak {
		tk := time.NewTicker(30 * time.Second)
		defer tk.Stop()
		tick = tk.C
	}
	began := time.Now()
	for {
		select {
		case <-end:
			close(stop)
			return
		case <-tick:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			t.Logf("soak %v: %s; %s; %d goroutines, heap in use %d MiB",
				time.Since(began).Round(time.Second), dirs[0].figures("in flight"), dirs[1].figures("in flight"),
				runtime.NumGoroutine(), ms.HeapInuse>>20)
		}
	}
}

// loadDial dials n clients, a few at a time, alternating codecs; client i
// serves "down" for its own index.
func loadDial(t *testing.T, url string, n int, down *loadDir) []*rpc.Peer {
	t.Helper()
	clients := make([]*rpc.Peer, n)
	errs := make([]error, n)
	loadEach(n, 32, func(i int) {
		r := rpc.NewRouter()
		if err := r.Register("down", down.handler(int64(i), nil)); err != nil {
			errs[i] = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		clients[i], errs[i] = websocket.Dial(ctx, url, &websocket.DialOptions{
			Codec:   loadCodecs[i%len(loadCodecs)],
			Handler: r,
			Header:  http.Header{loadClientHeader: {strconv.Itoa(i)}},
		})
	})
	t.Cleanup(func() {
		for _, p := range clients {
			if p != nil {
				_ = p.Close()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
	}
	return clients
}

// loadEach runs f(0..n-1) on at most par goroutines.
func loadEach(n, par int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(par, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}
