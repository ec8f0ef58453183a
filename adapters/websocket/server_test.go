package websocket_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// rawDial dials with gorilla and returns the chosen subprotocol, or the
// refusal's status and body.
func rawDial(t *testing.T, url string, protocols []string, header http.Header) (proto string, status int, body string) {
	t.Helper()
	d := gorilla.Dialer{Subprotocols: protocols}
	ws, resp, err := d.Dial(url, header)
	if err != nil {
		if resp == nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return "", resp.StatusCode, string(b)
	}
	proto = ws.Subprotocol()
	_ = ws.Close()
	return proto, http.StatusSwitchingProtocols, ""
}

// TestNegotiation: the Sec-WebSocket-Protocol rules of the package doc.
func TestNegotiation(t *testing.T) {
	both := startServer(t, nil)
	cborOnly := startServer(t, &websocket.ServerOptions{Codecs: []codec.Codec{cbor.Codec{}}})
	for _, tc := range []struct {
		name      string
		server    *testServer
		offered   []string
		wantProto string
		wantCode  int
		wantBody  []string
	}{
		{"none means JSON", both, nil, "", 101, nil},
		{"JSON by name", both, []string{"jsonrpc2.json"}, "jsonrpc2.json", 101, nil},
		{"CBOR", both, []string{"jsonrpc2.cbor"}, "jsonrpc2.cbor", 101, nil},
		{"first supported wins", both, []string{"mqtt", "jsonrpc2.cbor", "jsonrpc2.json"}, "jsonrpc2.cbor", 101, nil},
		{"unknown only", both, []string{"mqtt", "graphql-ws"}, "", 400,
			[]string{`"mqtt"`, `"graphql-ws"`, "jsonrpc2.json", "jsonrpc2.cbor", "none for JSON"}},
		{"CBOR-only server, none offered", cborOnly, nil, "", 400, []string{"needs a subprotocol", "jsonrpc2.cbor"}},
		{"CBOR-only server, JSON offered", cborOnly, []string{"jsonrpc2.json"}, "", 400, []string{"jsonrpc2.cbor"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proto, code, body := rawDial(t, tc.server.url, tc.offered, nil)
			if code != tc.wantCode || proto != tc.wantProto {
				t.Fatalf("got %d %q (%s), want %d %q", code, proto, body, tc.wantCode, tc.wantProto)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("refusal %q does not mention %s", body, w)
				}
			}
		})
	}

	// Dial reports a refusal as a HandshakeError with the server's reason.
	_, err := websocket.Dial(testCtx(t), cborOnly.url, nil)
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(he.Message, "jsonrpc2.cbor") ||
		!errors.Is(err, gorilla.ErrBadHandshake) {
		t.Fatalf("Dial to a CBOR-only server with JSON: %v", err)
	}
}

// TestDialRefusesUnansweredProtocol: a CBOR client dialing a plain
// WebSocket server that ignores subprotocols (and so would read CBOR as
// JSON) fails at once, saying why.
func TestDialRefusesUnansweredProtocol(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_, _, _ = ws.ReadMessage() // until the client goes
	}))
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http")
	_, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{Codec: cbor.Codec{}})
	if err == nil || !strings.Contains(err.Error(), `did not accept subprotocol "jsonrpc2.cbor"`) {
		t.Fatalf("CBOR client to a server ignoring subprotocols: %v", err)
	}
	// A JSON client offers nothing, so it works with such a server.
	p, err := websocket.Dial(testCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
}

func TestNotAWebSocketHandshake(t *testing.T) {
	ts := startServer(t, nil)
	resp := httpGet(t, ts.http.URL, nil)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "WebSocket") {
		t.Fatalf("plain GET: %d %s", resp.StatusCode, b)
	}
}

// TestOrigins: same origin by default, plus an allowlist.
func TestOrigins(t *testing.T) {
	strict := startServer(t, nil)
	listed := startServer(t, &websocket.ServerOptions{
		AllowedOrigins: []string{"https://app.example.com", "*.trusted.org", "localhost:*"},
	})
	open := startServer(t, &websocket.ServerOptions{AllowedOrigins: []string{"*"}})
	own := func(ts *testServer) string { return ts.http.URL } // http://127.0.0.1:port
	for _, tc := range []struct {
		server *testServer
		origin string
		ok     bool
	}{
		{strict, "", true},
		{strict, own(strict), true},
		{strict, "https://evil.example", false},
		{strict, "null", false},
		{listed, "https://app.example.com", true},
		{listed, "http://app.example.com", false}, // scheme given in the entry: must match
		{listed, "https://a.trusted.org", true},
		{listed, "http://b.trusted.org:8080", false}, // host pattern has no port
		{listed, "http://localhost:3000", true},
		{listed, "https://trusted.org.evil", false},
		{open, "https://whatever.example", true},
		{open, "null", true},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		_, code, body := rawDial(t, tc.server.url, nil, h)
		if tc.ok && code != 101 || !tc.ok && code != 403 {
			t.Errorf("origin %q: %d %s", tc.origin, code, body)
		}
		if !tc.ok && !strings.Contains(body, "origin") {
			t.Errorf("origin %q refused with %q", tc.origin, body)
		}
	}
}

// TestAccept: Accept authenticates before the upgrade, refuses with the
// status it chooses, and gives each connection its own options; OnConnect
// sees the request that opened the connection.
func TestAccept(t *testing.T) {
	type user struct{ name string }
	users := make(chan string, 4)
	ts := startServer(t, &websocket.ServerOptions{
		Handler: serverRouter(t),
		Accept: func(r *http.Request) ([]rpc.Option, error) {
			switch tok := r.Header.Get("Authorization"); tok {
			case "":
				return nil, &websocket.HTTPError{Status: http.StatusUnauthorized, Message: "token required"}
			case "banned":
				return nil, errors.New("this token is banned")
			case "odd":
				return nil, &websocket.HTTPError{Status: 200, Message: "not an error status"}
			default:
				// A handler of its own for this client.
				u := &user{name: tok}
				r := rpc.NewRouter()
				_ = r.Register("whoami", rpc.Func(func(context.Context, struct{}) (string, error) { return u.name, nil }))
				return []rpc.Option{rpc.WithHandler(r)}, nil
			}
		},
		OnConnect: func(p *rpc.Peer, r *http.Request) { users <- r.Header.Get("Authorization") },
	})

	_, code, body := rawDial(t, ts.url, nil, nil)
	if code != 401 || !strings.Contains(body, "token required") {
		t.Fatalf("no token: %d %s", code, body)
	}
	_, code, body = rawDial(t, ts.url, nil, http.Header{"Authorization": {"banned"}})
	if code != 403 || !strings.Contains(body, "banned") {
		t.Fatalf("banned token: %d %s", code, body)
	}
	_, code, _ = rawDial(t, ts.url, nil, http.Header{"Authorization": {"odd"}})
	if code != 403 {
		t.Fatalf("HTTPError with status 200: %d", code)
	}
	_, err := websocket.Dial(testCtx(t), ts.url, nil)
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 401 {
		t.Fatalf("Dial without token: %v", err)
	}

	for _, name := range []string{"ann", "bob"} {
		p := dial(t, ts.url, &websocket.DialOptions{Header: http.Header{"Authorization": {name}}})
		if got, err := rpc.Call[string](testCtx(t), p, "whoami", struct{}{}); err != nil || got != name {
			t.Fatalf("whoami = %q, %v; want %q", got, err, name)
		}
		if got := <-users; got != name {
			t.Fatalf("OnConnect saw %q, want %q", got, name)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for i, o := range []*websocket.ServerOptions{
		{AllowedOrigins: []string{"[bad"}},
		{PeerOptions: []rpc.Option{rpc.WithMaxMessageSize(1)}},
		{Codecs: []codec.Codec{json.Codec{}, json.Codec{}}},
		{Codecs: []codec.Codec{nil}},
	} {
		if _, err := websocket.NewServer(o); err == nil {
			t.Errorf("server options %d accepted", i)
		}
	}
	for _, tc := range []struct {
		url  string
		opts *websocket.DialOptions
	}{
		{"http://127.0.0.1:1/", nil},
		{"ws://127.0.0.1:1/", &websocket.DialOptions{PeerOptions: []rpc.Option{rpc.WithMaxConcurrency(0)}}},
	} {
		if _, err := websocket.Dial(context.Background(), tc.url, tc.opts); err == nil {
			t.Errorf("Dial(%s) accepted", tc.url)
		}
	}
	if _, err := websocket.NewReconnecting("ws://127.0.0.1:1/", &websocket.ReconnectOptions{MinBackoff: 2, MaxBackoff: 1}); err == nil {
		t.Error("MaxBackoff < MinBackoff accepted")
	}
}

// TestOptionsNotModified: the server and the dialer copy what they are
// given.
func TestOptionsNotModified(t *testing.T) {
	origins := []string{"*.example.com"}
	so := &websocket.ServerOptions{AllowedOrigins: origins}
	ts := startServer(t, so)
	h := http.Header{"X-A": {"1"}}
	d := &gorilla.Dialer{}
	do := &websocket.DialOptions{Codec: cbor.Codec{}, Header: h, Dialer: d}
	dial(t, ts.url, do)
	if so.PingInterval != 0 || so.Codecs != nil || origins[0] != "*.example.com" {
		t.Errorf("server options modified: %+v", so)
	}
	if do.PingInterval != 0 || d.Subprotocols != nil || d.WriteBufferPool != nil || len(h) != 1 {
		t.Errorf("dial options modified: %+v, dialer %+v", do, d)
	}
}

// TestServerClose: closing the server ends every connection with a close
// frame, and refuses new handshakes.
func TestServerClose(t *testing.T) {
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), Peers: &peers})
	clients := make([]*rpc.Peer, 3)
	for i := range clients {
		clients[i] = dial(t, ts.url, nil)
	}
	waitFor(t, "three peers", func() bool { return peers.Len() == 3 })
	servers := make([]*rpc.Peer, 0, 3)
	for _, id := range peers.IDs() {
		p, _ := peers.Get(id)
		servers = append(servers, p)
	}
	if err := ts.Server.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range servers {
		if err := p.Err(); !errors.Is(err, rpc.ErrClosed) {
			t.Errorf("server peer after Close: %v", err)
		}
	}
	for _, c := range clients {
		if err := waitEnd(t, c); !errors.Is(err, rpc.ErrConnectionLost) || !strings.Contains(err.Error(), "other end closed") {
			t.Errorf("client after server Close: %v", err)
		}
	}
	if ts.Len() != 0 {
		t.Errorf("%d connections left", ts.Len())
	}
	_, code, _ := rawDial(t, ts.url, nil, nil)
	if code != http.StatusServiceUnavailable {
		t.Errorf("handshake after Close: %d", code)
	}
}
