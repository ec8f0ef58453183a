package websocket_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// testServer is a Server mounted on an httptest server on 127.0.0.1.
type testServer struct {
	*websocket.Server
	http *httptest.Server
	url  string // ws://127.0.0.1:port
}

func startServer(t testing.TB, opts *websocket.ServerOptions) *testServer {
	t.Helper()
	srv, err := websocket.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	ts := &testServer{Server: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http")}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	_ = ts.Server.Close()
	ts.http.Close()
}

func dial(t testing.TB, url string, opts *websocket.DialOptions) *rpc.Peer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustRegister(t testing.TB, r *rpc.Router, method string, h rpc.Handler) {
	t.Helper()
	if err := r.Register(method, h); err != nil {
		t.Fatal(err)
	}
}

// serverRouter serves the methods the tests call on the server.
func serverRouter(t testing.TB) *rpc.Router {
	r := rpc.NewRouter()
	mustRegister(t, r, "add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		s := 0
		for _, n := range p {
			s += n
		}
		return s, nil
	}))
	mustRegister(t, r, "echo", rpc.Func(func(_ context.Context, p []string) ([]string, error) { return p, nil }))
	// callback calls the client's "mul" and adds one: a handler that calls
	// back the peer that called it.
	mustRegister(t, r, "callback", rpc.Func(func(ctx context.Context, p []int) (int, error) {
		n, err := rpc.Call[int](ctx, rpc.PeerFromContext(ctx), "mul", p)
		return n + 1, err
	}))
	mustRegister(t, r, "sleep", sleep)
	return r
}

// sleep answers after Ms milliseconds, or fails when its call is
// cancelled.
var sleep = rpc.Func(func(ctx context.Context, p struct{ Ms int }) (string, error) {
	select {
	case <-time.After(time.Duration(p.Ms) * time.Millisecond):
		return "slept", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
})

// clientRouter serves the methods the tests call on clients.
func clientRouter(t testing.TB) *rpc.Router {
	r := rpc.NewRouter()
	mustRegister(t, r, "sleep", sleep)
	mustRegister(t, r, "mul", rpc.Func(func(_ context.Context, p []int) (int, error) {
		n := 1
		for _, x := range p {
			n *= x
		}
		return n, nil
	}))
	return r
}

// waitFor polls cond until it holds or a few seconds pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitEnd waits for p to end and returns its error.
func waitEnd(t testing.TB, p *rpc.Peer) error {
	t.Helper()
	select {
	case <-p.Done():
		return p.Err()
	case <-time.After(5 * time.Second):
		t.Fatal("the peer did not end")
		return nil
	}
}

// onlyPeer returns the single peer of set, waiting for it to join.
func onlyPeer(t testing.TB, set *rpc.PeerSet) *rpc.Peer {
	t.Helper()
	waitFor(t, "a peer to join", func() bool { return set.Len() == 1 })
	p, ok := set.Get(set.IDs()[0])
	if !ok {
		t.Fatal("peer left the set")
	}
	return p
}

// proxy is a TCP proxy on 127.0.0.1 that a test can stall (stop
// forwarding, like a dead network) or kill (drop every connection without
// a WebSocket close frame).
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   []net.Conn
	stalled chan struct{} // non-nil while stalled; closed to resume
	closed  bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// url returns the proxy's ws:// URL.
func (p *proxy) url() string { return "ws://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		d, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			_ = d.Close()
			return
		}
		p.conns = append(p.conns, c, d)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(d, c)
		go p.pipe(c, d)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// gate waits while the proxy is stalled; it reports false once closed.
func (p *proxy) gate() bool {
	p.mu.Lock()
	ch, closed := p.stalled, p.closed
	p.mu.Unlock()
	if closed {
		return false
	}
	if ch != nil {
		<-ch
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed
}

// stall stops forwarding in both directions: the link goes silent.
func (p *proxy) stall() {
	p.mu.Lock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
	p.mu.Unlock()
}

// kill drops every connection at once, without a close frame.
func (p *proxy) kill() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	_ = p.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	p.wg.Wait()
}

// is reports whether err matches every target.
func is(err error, targets ...error) bool {
	for _, t := range targets {
		if !errors.Is(err, t) {
			return false
		}
	}
	return true
}

// httpGet is a plain GET, for handshake refusals.
func httpGet(t testing.TB, url string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}
