package sockjs_test

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/rawws"
	"github.com/parleyrpc/parley/rpc"
)

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Calls both ways over the raw websocket endpoint, with each codec.
func TestRawWebsocketCalls(t *testing.T) {
	e := newEnv(t, nil)
	for _, prefix := range []string{"/rpc", "/cbor"} {
		t.Run(strings.TrimPrefix(prefix, "/"), func(t *testing.T) {
			ctx := testContext(t)
			c := e.mustDial(t, prefix, "go"+prefix, nil)

			sum, err := rpc.Call[int](ctx, c.peer, "add", []int{2, 3})
			if err != nil || sum != 5 {
				t.Errorf("add: %v, %v; want 5", sum, err)
			}
			_, err = rpc.Call[int](ctx, c.peer, "no.such.method", nil)
			if !errors.Is(err, rpc.ErrMethodNotFound) || !rpc.IsRemote(err) {
				t.Errorf("unknown method: %v; want a remote -32601", err)
			}
			_, err = rpc.Call[int](ctx, c.peer, "add", map[string]string{"x": "y"})
			if !errors.Is(err, rpc.ErrInvalidParams) {
				t.Errorf("wrong params: %v; want -32602", err)
			}
			// The server calls back inside the client's call.
			cb, err := rpc.Call[callbackResult](ctx, c.peer, "callMeBack", mulParams{A: 6, B: 7})
			if err != nil || cb.Who != "go"+prefix || cb.Product != 42 {
				t.Errorf("callMeBack: %+v, %v", cb, err)
			}
			// The server calls the client on its own.
			sp := e.peerNamed("go" + prefix)
			if sp == nil {
				t.Fatal("server peer not found")
			}
			who, err := rpc.Call[string](ctx, sp, "whoami", nil)
			if err != nil || who != "go"+prefix {
				t.Errorf("server -> client whoami: %q, %v", who, err)
			}
			if got := sp.Codec().Name(); got != map[string]string{"/rpc": "json", "/cbor": "cbor"}[prefix] {
				t.Errorf("server peer codec %s", got)
			}
		})
	}
}

// The raw endpoint has no session id: the set makes one up.
func TestRawSessionJoinsSetWithGeneratedID(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	c := e.mustDial(t, "/rpc", "anon", nil)
	id, err := rpc.Call[string](ctx, c.peer, "hello", helloParams{Name: "anon"})
	if err != nil || id == "" {
		t.Fatalf("hello: %q, %v", id, err)
	}
	if p, ok := e.peers.Get(id); !ok || p != e.peerNamed("anon") {
		t.Errorf("set has no peer %q", id)
	}
}

// Accept sees the request; its error closes the session with
// CloseRefused and the error's text, and no peer joins the set.
func TestAcceptRefuses(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	c, err := dialWS(ctx, e.wsURL("/rpc")+"?token=bad", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	_, err = c.ReadText()
	var ce *rawws.CloseError
	if !errors.As(err, &ce) || ce.Code != sockjs.CloseRefused || ce.Reason != "bad token" {
		t.Fatalf("read after refusal: %v; want close %d \"bad token\"", err, sockjs.CloseRefused)
	}
	if n := e.peers.Len(); n != 0 {
		t.Errorf("%d peers in the set; want 0", n)
	}
}

// What Accept returns with rpc.WithValue reaches the session's handlers
// and Peer.Value.
func TestAcceptValueReachesHandlers(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	c, err := dialWS(ctx, e.wsURL("/rpc")+"?name=alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteText([]byte(`{"jsonrpc":"2.0","method":"sessionName","id":1}`)); err != nil {
		t.Fatal(err)
	}
	msg, err := c.ReadText()
	var answer struct {
		Result string `json:"result"`
	}
	if err != nil || stdjson.Unmarshal(msg, &answer) != nil || answer.Result != "alice" {
		t.Fatalf("sessionName: %s, %v; want alice", msg, err)
	}
}

// A panicking Accept or OnConnect closes the session with CloseInternal;
// the process lives on.
func TestHookPanics(t *testing.T) {
	for name, mod := range map[string]func(*sockjs.ServerOptions){
		"Accept": func(c *sockjs.ServerOptions) {
			c.Accept = func(sockjs.Session) ([]rpc.Option, error) { panic("boom") }
		},
		"OnConnect": func(c *sockjs.ServerOptions) {
			c.OnConnect = func(*rpc.Peer, sockjs.Session) { panic("boom") }
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *sockjs.ServerOptions) {
				mod(c)
				c.Logger = slog.New(slog.DiscardHandler)
			})
			ctx := testContext(t)
			c, err := dialWS(ctx, e.wsURL("/rpc"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Abort()
			_, err = c.ReadText()
			var ce *rawws.CloseError
			if !errors.As(err, &ce) || ce.Code != sockjs.CloseInternal {
				t.Fatalf("read: %v; want close %d", err, sockjs.CloseInternal)
			}
		})
	}
}

// Options from Accept that rpc.NewPeer refuses close the session with
// CloseInternal and the error's text.
func TestAcceptBadOption(t *testing.T) {
	e := newEnv(t, func(c *sockjs.ServerOptions) {
		c.Accept = func(sockjs.Session) ([]rpc.Option, error) {
			return []rpc.Option{rpc.WithMaxMessageSize(1)}, nil
		}
	})
	c, err := dialWS(testContext(t), e.wsURL("/rpc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	_, err = c.ReadText()
	var ce *rawws.CloseError
	if !errors.As(err, &ce) || ce.Code != sockjs.CloseInternal || !strings.Contains(ce.Reason, "WithMaxMessageSize") {
		t.Fatalf("read: %v; want close %d naming the option", err, sockjs.CloseInternal)
	}
}

// Closing the server-side peer closes the session with CloseNormal; the
// client's peer ends with ErrConnectionLost.
func TestPeerCloseEndsSession(t *testing.T) {
	e := newEnv(t, nil)
	c := e.mustDial(t, "/rpc", "closeme", nil)
	sp := e.peerNamed("closeme")
	sp.Close()
	if err := sp.Err(); !errors.Is(err, rpc.ErrClosed) {
		t.Errorf("server peer Err %v; want ErrClosed", err)
	}
	select {
	case <-c.peer.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client peer still up")
	}
	if err := c.peer.Err(); !errors.Is(err, rpc.ErrConnectionLost) || !strings.Contains(err.Error(), "1000") {
		t.Errorf("client peer Err %v; want connection lost with close 1000", err)
	}
	e.waitFor(t, 5*time.Second, "the peer to leave the set", func() bool { return e.peers.Len() == 0 })
}

// A client that closes its end ends the server-side peer, once, with
// ErrConnectionLost; the peer leaves the set.
func TestClientCloseEndsPeer(t *testing.T) {
	e := newEnv(t, nil)
	left := make(chan error, 2)
	e.peers.OnLeave = func(_ string, _ *rpc.Peer, err error) { left <- err }
	c := e.mustDial(t, "/rpc", "leaver", nil)
	sp := e.peerNamed("leaver")
	c.peer.Close()
	select {
	case <-sp.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("server peer still up")
	}
	if err := sp.Err(); !errors.Is(err, rpc.ErrConnectionLost) || !strings.Contains(err.Error(), "other end closed") {
		t.Errorf("server peer Err %v; want connection lost, other end closed", err)
	}
	if err := <-left; !errors.Is(err, rpc.ErrConnectionLost) {
		t.Errorf("OnLeave err %v", err)
	}
	select {
	case err := <-left:
		t.Errorf("OnLeave called twice, again with %v", err)
	case <-time.After(100 * time.Millisecond):
	}
}

// Server.Close ends every session with CloseGoingAway and refuses new
// ones.
func TestServerClose(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	a := e.mustDial(t, "/rpc", "a", nil)
	b := e.mustDial(t, "/rpc", "b", nil)
	e.json.Close()
	for _, c := range []*goClient{a, b} {
		select {
		case <-c.peer.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("client still up after Server.Close")
		}
		if err := c.peer.Err(); !strings.Contains(err.Error(), "1001") {
			t.Errorf("client Err %v; want close 1001", err)
		}
	}
	e.waitFor(t, 5*time.Second, "the peers to leave the set", func() bool { return e.peers.Len() == 0 })
	c, err := dialWS(ctx, e.wsURL("/rpc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	_, err = c.ReadText()
	var ce *rawws.CloseError
	if !errors.As(err, &ce) || ce.Code != sockjs.CloseGoingAway {
		t.Errorf("new session after Close: %v; want close %d", err, sockjs.CloseGoingAway)
	}
	// The other endpoint still serves.
	d := e.mustDial(t, "/cbor", "d", nil)
	if _, err := rpc.Call[int](ctx, d.peer, "add", []int{1}); err != nil {
		t.Error(err)
	}
}

// OnConnect gets a Peer that is already serving and in the set: it may
// call the client and wait for the answer, and a call from the client
// sent meanwhile is answered without waiting for OnConnect to return.
func TestOnConnectPeerServing(t *testing.T) {
	type seen struct {
		inSet bool
		who   string
		err   error
	}
	got := make(chan seen, 1)
	release := make(chan struct{})
	var e *env
	e = newEnv(t, func(c *sockjs.ServerOptions) {
		c.OnConnect = func(p *rpc.Peer, s sockjs.Session) {
			id, inSet := e.peers.ID(p)
			who, err := rpc.Call[string](context.Background(), p, "whoami", nil)
			got <- seen{inSet: inSet && (s.ID() == "" || id == s.ID()), who: who, err: err}
			<-release // still running while the client's call below is served
		}
	})
	defer close(release)
	ctx := testContext(t)
	c, err := dialWS(ctx, e.wsURL("/rpc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call, err := c.ReadText()
	var req struct {
		Method string             `json:"method"`
		ID     stdjson.RawMessage `json:"id"`
	}
	if err != nil || stdjson.Unmarshal(call, &req) != nil || req.Method != "whoami" {
		t.Fatalf("first message %s, %v; want OnConnect's whoami call", call, err)
	}
	if err := c.WriteText([]byte(`{"jsonrpc":"2.0","result":"raw","id":` + string(req.ID) + `}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if !s.inSet || s.who != "raw" || s.err != nil {
			t.Fatalf("OnConnect saw %+v; want in the set, whoami answered \"raw\"", s)
		}
	case <-ctx.Done():
		t.Fatal("OnConnect's call was not answered")
	}
	if err := c.WriteText([]byte(`{"jsonrpc":"2.0","method":"add","params":[1,1],"id":1}`)); err != nil {
		t.Fatal(err)
	}
	msg, err := c.ReadText()
	var answer struct {
		Result int `json:"result"`
	}
	if err != nil || stdjson.Unmarshal(msg, &answer) != nil || answer.Result != 2 {
		t.Fatalf("answer %s, %v; want 2 while OnConnect runs", msg, err)
	}
}

func TestNewServerChecksOptions(t *testing.T) {
	bad := map[string]*sockjs.ServerOptions{
		"peer option":    {PeerOptions: []rpc.Option{rpc.WithMaxMessageSize(1)}},
		"origin":         {AllowedOrigins: []string{"https://[example.com"}},
		"read limit":     {ReadLimit: -1},
		"nil codec opt":  {PeerOptions: []rpc.Option{rpc.WithCodec(nil)}},
		"nil handler op": {PeerOptions: []rpc.Option{rpc.WithHandler(nil)}},
	}
	for name, cfg := range bad {
		if _, err := sockjs.NewServer(cfg); err == nil {
			t.Errorf("%s: NewServer accepted %+v", name, cfg)
		}
	}
	s, err := sockjs.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Codec().Name() != "json" {
		t.Errorf("default codec %s", s.Codec().Name())
	}
	s.Close()
	// The Codec field decides; rpc.WithCodec in PeerOptions has no effect.
	s, err = sockjs.NewServer(&sockjs.ServerOptions{Codec: cbor.Codec{}, PeerOptions: []rpc.Option{rpc.WithCodec(json.Codec{})}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Codec().Name() != "cbor" {
		t.Errorf("codec %s; want cbor, the Codec field's", s.Codec().Name())
	}
	s.Close()
}

// Handler copies the options: the caller's Options and upgrader stay as
// they were.
func TestHandlerKeepsCallerOptions(t *testing.T) {
	s, err := sockjs.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	opts := sockjsgo.DefaultOptions
	up := *opts.WebsocketUpgrader
	opts.WebsocketUpgrader = &up
	_ = s.Handler("/x", &opts)
	if opts.CheckOrigin != nil || up.CheckOrigin != nil || opts.WebsocketWriteTimeout != 0 || opts.WebsocketUpgrader != &up {
		t.Errorf("Handler changed the caller's options: %+v", opts)
	}
	if sockjsgo.DefaultOptions.CheckOrigin != nil || sockjsgo.DefaultOptions.WebsocketUpgrader.CheckOrigin != nil {
		t.Error("Handler changed sockjs.DefaultOptions")
	}
	_ = s.Handler("/y", nil)
	if sockjsgo.DefaultOptions.CheckOrigin != nil || sockjsgo.DefaultOptions.WebsocketUpgrader.CheckOrigin != nil {
		t.Error("Handler(nil) changed sockjs.DefaultOptions")
	}
	// DefaultOptions gives a copy, upgrader included.
	d := sockjs.DefaultOptions()
	d.RawWebsocket = true
	d.WebsocketUpgrader.ReadBufferSize = 12345
	if sockjsgo.DefaultOptions.RawWebsocket || sockjsgo.DefaultOptions.WebsocketUpgrader.ReadBufferSize == 12345 ||
		sockjs.DefaultOptions().WebsocketUpgrader == d.WebsocketUpgrader {
		t.Error("DefaultOptions shares its upgrader or options with sockjs-go")
	}
}

// Cross-origin requests are refused unless allowed; allowed ones get CORS
// headers on XHR and pass the websocket upgrade.
func TestOrigins(t *testing.T) {
	e := newEnv(t, func(c *sockjs.ServerOptions) {
		c.AllowedOrigins = []string{"https://good.example", "*.trusted.example"}
	})
	ctx := testContext(t)
	get := func(origin string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.hs.URL+"/rpc/info", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		origin string
		status int
		acao   string
	}{
		{"", 200, "*"},
		{e.hs.URL, 200, e.hs.URL}, // same origin
		{"https://good.example", 200, "https://good.example"},
		{"HTTPS://GOOD.EXAMPLE", 200, "HTTPS://GOOD.EXAMPLE"},
		{"http://good.example", 403, ""}, // a pattern with a scheme matches it
		{"https://a.trusted.example", 200, "https://a.trusted.example"},
		{"http://b.trusted.example:8080", 403, ""}, // the pattern names no port
		{"https://trusted.example", 403, ""},
		{"https://evil.example", 403, ""},
		{"null", 403, ""},
	} {
		resp := get(tc.origin)
		if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != tc.acao {
			t.Errorf("Origin %q: %d, ACAO %q; want %d, %q", tc.origin, resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), tc.status, tc.acao)
		}
	}
	for _, tc := range []struct {
		origin string
		ok     bool
	}{{"https://evil.example", false}, {"https://good.example", true}, {"https://x.trusted.example", true}, {e.hs.URL, true}} {
		c, err := dialWS(ctx, e.wsURL("/rpc"), http.Header{"Origin": {tc.origin}})
		if tc.ok != (err == nil) {
			t.Errorf("websocket from %q: %v; want ok=%v", tc.origin, err, tc.ok)
		}
		var he *rawws.HandshakeError
		if !tc.ok && (!errors.As(err, &he) || he.Status != http.StatusForbidden) {
			t.Errorf("websocket from %q: %v; want a refusal with 403", tc.origin, err)
		}
		if c != nil {
			c.Close()
		}
	}
}

// HandleSession mounted without Guard still refuses a session opened from
// a foreign origin.
func TestHandleSessionChecksOrigin(t *testing.T) {
	s, err := sockjs.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := *envOptions()
	opts.CheckOrigin = func(*http.Request) bool { return true }
	u := *opts.WebsocketUpgrader
	u.CheckOrigin = func(*http.Request) bool { return true }
	opts.WebsocketUpgrader = &u
	e := &env{}
	e.hs = newHTTPServer(t, sockjsgo.NewHandler("/rpc", opts, s.HandleSession))
	t.Cleanup(func() { s.Close() })
	c, err := dialWS(testContext(t), e.wsURL("/rpc"), http.Header{"Origin": {"https://evil.example"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	_, err = c.ReadText()
	var ce *rawws.CloseError
	if !errors.As(err, &ce) || ce.Code != sockjs.CloseForbidden {
		t.Errorf("read: %v; want close %d", err, sockjs.CloseForbidden)
	}
}
