package sockjs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// env is a test HTTP server with two SockJS endpoints sharing one
// PeerSet: /rpc (JSON) and /cbor (CBOR), raw websocket enabled on both.
type env struct {
	hs    *httptest.Server
	json  *sockjs.Server
	cbor  *sockjs.Server
	peers *rpc.PeerSet

	mu       sync.Mutex
	names    map[string]string // set id -> name the client gave in hello
	sessions map[string]sessionInfo
	ended    map[string]error // session id -> how its peer ended
	changed  chan struct{}    // closed and replaced when names or ended change
}

// sessionInfo is what Accept saw of a session opened with ?name=.
type sessionInfo struct {
	ID       string
	Receiver sockjsgo.ReceiverType
}

// envOptions are the sockjs-go options of the test endpoints.
func envOptions() *sockjs.Options {
	o := sockjs.DefaultOptions()
	o.RawWebsocket = true
	// Short, so that sockjs-go's per-session goroutines, which outlive a
	// closed HTTP session by this much, are gone before the leak check.
	o.DisconnectDelay = time.Second
	return &o
}

// newEnv starts the server; mod, if not nil, adjusts the ServerOptions of
// both endpoints. Cleanup closes the Servers, then the HTTP server.
func newEnv(t testing.TB, mod func(*sockjs.ServerOptions)) *env {
	t.Helper()
	e := &env{
		peers:    new(rpc.PeerSet),
		names:    make(map[string]string),
		sessions: make(map[string]sessionInfo),
		ended:    make(map[string]error),
		changed:  make(chan struct{}),
	}
	e.peers.OnLeave = func(id string, _ *rpc.Peer, err error) {
		e.mu.Lock()
		e.ended[id] = err
		e.changedLocked()
		e.mu.Unlock()
	}
	router := e.router()
	build := func(c codec.Codec) *sockjs.Server {
		opts := &sockjs.ServerOptions{
			Codec:   c,
			Handler: router,
			Peers:   e.peers,
			Accept:  e.accept,
		}
		if mod != nil {
			mod(opts)
		}
		s, err := sockjs.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.json, e.cbor = build(json.Codec{}), build(cbor.Codec{})
	mux := http.NewServeMux()
	mux.Handle("/rpc/", e.json.Handler("/rpc", envOptions()))
	mux.Handle("/cbor/", e.cbor.Handler("/cbor", envOptions()))
	e.hs = newHTTPServer(t, mux)
	t.Cleanup(func() {
		e.json.Close()
		e.cbor.Close()
	})
	return e
}

// nameKey is the key under which Accept gives a session's ?name= to its
// Peer (rpc.WithValue).
type nameKey struct{}

// accept records the session, refuses ?token=bad, and gives the Peer the
// session's ?name=, if any.
func (e *env) accept(s sockjs.Session) ([]rpc.Option, error) {
	q := s.Request().URL.Query()
	if q.Get("token") == "bad" {
		return nil, errors.New("bad token")
	}
	name := q.Get("name")
	if name == "" {
		return nil, nil
	}
	e.mu.Lock()
	e.sessions[name] = sessionInfo{ID: s.ID(), Receiver: s.ReceiverType()}
	e.mu.Unlock()
	return []rpc.Option{rpc.WithValue(nameKey{}, name)}, nil
}

// changedLocked wakes whoever waits in waitFor; e.mu is held.
func (e *env) changedLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// waitFor waits until cond holds, checking it again each time a client
// says hello or a peer leaves the set, for at most d.
func (e *env) waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout := time.After(d)
	for {
		e.mu.Lock()
		changed := e.changed
		e.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// serverSide says how the Go server saw the session named name end.
func (e *env) serverSide(name string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	info, ok := e.sessions[name]
	if !ok {
		return "the server saw no session of that name"
	}
	err, ok := e.ended[info.ID]
	if !ok {
		return fmt.Sprintf("session %s still open on the server", info.ID)
	}
	return fmt.Sprintf("session %s ended on the server with: %v", info.ID, err)
}

type helloParams struct {
	Name string `json:"name"`
}

type mulParams struct {
	A int `json:"a"`
	B int `json:"b"`
}

type callbackResult struct {
	Who     string `json:"who"`
	Product int    `json:"product"`
}

// router serves what the clients call.
func (e *env) router() *rpc.Router {
	r := rpc.NewRouter()
	r.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	}))
	r.Register("hello", rpc.Func(func(ctx context.Context, p helloParams) (string, error) {
		id, ok := e.peers.ID(rpc.PeerFromContext(ctx))
		if !ok {
			return "", errors.New("not in the set")
		}
		e.mu.Lock()
		e.names[id] = p.Name
		e.changedLocked()
		e.mu.Unlock()
		return id, nil
	}))
	// callMeBack calls the client while its call is in progress.
	r.Register("callMeBack", rpc.Func(func(ctx context.Context, p mulParams) (callbackResult, error) {
		peer := rpc.PeerFromContext(ctx)
		var res callbackResult
		if err := peer.Call(ctx, "whoami", nil, &res.Who); err != nil {
			return res, fmt.Errorf("whoami: %w", err)
		}
		if err := peer.Call(ctx, "mul", p, &res.Product); err != nil {
			return res, fmt.Errorf("mul: %w", err)
		}
		return res, nil
	}))
	r.Register("echo", rpc.Func(func(_ context.Context, p rpc.Raw) (rpc.Raw, error) { return p, nil }))
	// sessionName answers what Accept gave the Peer with rpc.WithValue.
	r.Register("sessionName", rpc.Func(func(ctx context.Context, _ any) (string, error) {
		name, _ := ctx.Value(nameKey{}).(string)
		return name, nil
	}))
	return r
}

// name returns the name a client gave for set id.
func (e *env) name(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.names[id]
}

// peerNamed returns the server-side peer of the client that said hello
// with name.
func (e *env) peerNamed(name string) *rpc.Peer {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, n := range e.names {
		if n == name {
			p, _ := e.peers.Get(id)
			return p
		}
	}
	return nil
}

// wsURL is the raw websocket endpoint of prefix ("/rpc" or "/cbor").
func (e *env) wsURL(prefix string) string {
	return "ws" + strings.TrimPrefix(e.hs.URL, "http") + prefix + "/websocket"
}

// goClient is a Go peer on the raw websocket endpoint.
type goClient struct {
	peer *rpc.Peer
	conn *wsConn
}

// dialClient connects a Go peer to prefix, serving whoami with name (or
// h, if not nil), and says hello so that the server knows its name.
func (e *env) dialClient(ctx context.Context, prefix, name string, h rpc.Handler) (*goClient, error) {
	c, err := dialWS(ctx, e.wsURL(prefix), nil)
	if err != nil {
		return nil, err
	}
	var cd codec.Codec = json.Codec{}
	if prefix == "/cbor" {
		cd = cbor.Codec{}
	}
	if h == nil {
		r := rpc.NewRouter()
		r.Register("whoami", rpc.Func(func(context.Context, any) (string, error) { return name, nil }))
		r.Register("mul", rpc.Func(func(_ context.Context, p mulParams) (int, error) { return p.A * p.B, nil }))
		h = r
	}
	p, err := rpc.NewPeer(newWSTransport(c, cd), rpc.WithCodec(cd), rpc.WithHandler(h))
	if err != nil {
		c.Abort()
		return nil, err
	}
	if err := p.Call(ctx, "hello", helloParams{Name: name}, nil); err != nil {
		p.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	return &goClient{peer: p, conn: c}, nil
}

// mustDial is dialClient for the test goroutine; the client is closed at
// cleanup.
func (e *env) mustDial(t testing.TB, prefix, name string, h rpc.Handler) *goClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.dialClient(ctx, prefix, name, h)
	if err != nil {
		t.Fatalf("dial %s as %s: %v", prefix, name, err)
	}
	t.Cleanup(func() { c.peer.Close() })
	return c
}

// newHTTPServer starts an HTTP server on 127.0.0.1, closed at cleanup.
func newHTTPServer(t testing.TB, h http.Handler) *httptest.Server {
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}
