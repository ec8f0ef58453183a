package socketio4_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

type userKey struct{}

// testRouter serves the methods the node scripts call.
func testRouter(notes chan<- string) *rpc.Router {
	r := rpc.NewRouter()
	r.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	}))
	r.Register("greet", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
		return "hello, " + p.Name, nil
	}))
	// callback calls the client back from inside the handler.
	r.Register("callback", rpc.Func(func(ctx context.Context, p [2]int) (int, error) {
		return rpc.Call[int](ctx, rpc.PeerFromContext(ctx), "mul", p)
	}))
	r.Register("fail", rpc.Func(func(context.Context, any) (any, error) { return nil, errors.New("it failed") }))
	r.Register("panic", rpc.Func(func(context.Context, any) (any, error) { panic("boom") }))
	r.Register("whoami", rpc.Func(func(ctx context.Context, _ any) (any, error) {
		return rpc.PeerFromContext(ctx).Value(userKey{}), nil
	}))
	r.Register("note", rpc.Func(func(_ context.Context, p []string) (any, error) {
		if notes != nil && len(p) == 1 {
			notes <- p[0]
		}
		return nil, nil
	}))
	return r
}

// acceptToken is an Accept that takes the auth (or query) "token" as the
// user's identity.
func acceptToken(s *socket.Socket) ([]rpc.Option, error) {
	user := "anonymous"
	if tok, ok := s.Handshake().Auth["token"].(string); ok {
		user = "user:" + tok
	} else if q, ok := s.Handshake().Query["token"].([]string); ok && len(q) > 0 {
		user = "user:" + q[0]
	}
	if user == "user:wrong" {
		return nil, errNope
	}
	return []rpc.Option{rpc.WithValue(userKey{}, user)}, nil
}

var transports = []string{"websocket", "polling", "upgrade"}

// TestJSONRPC: json-rpc-2.0 on the "rpc" event, over socket.io-client 4
// and 2 (EIO3 allowed on the same server), every transport, JSON and
// CBOR: calls to the server (positional and named params, -32601, -32602,
// a call that calls back) and the server's own calls to the client.
func TestJSONRPC(t *testing.T) {
	for _, version := range []string{"4", "2"} {
		for _, tr := range transports {
			for _, codecName := range []string{"json", "cbor"} {
				t.Run(version+"/"+tr+"/"+codecName, func(t *testing.T) {
					testJSONRPC(t, version, tr, codecName)
				})
			}
		}
	}
}

func testJSONRPC(t *testing.T, version, tr, codecName string) {
	type serverSide struct {
		codec string
		mul   int
		echo  string
		err   error
	}
	got := make(chan serverSide, 1)
	const text = "héllo \u2028 <&> \"quoted\" \\ 😀"
	f := newFixture(t, socketio4.ServerOptions{
		Handler: testRouter(nil),
		Accept:  acceptToken,
		OnConnect: func(p *rpc.Peer, _ *socket.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.Notify(ctx, "hello", []string{"from OnConnect"})
			r := serverSide{codec: p.Codec().Name()}
			r.mul, r.err = rpc.Call[int](ctx, p, "mul", []int{6, 7})
			if r.err == nil {
				r.echo, r.err = rpc.Call[string](ctx, p, "echo", []string{text})
			}
			got <- r
			_ = p.Notify(ctx, "bye", []string{"done"})
		},
	}, nil, nil)
	out := node(t, 30*time.Second, "jsonrpc.mjs", f.url, codecName, tr, version)
	var sum struct {
		Add, Named, Unknown, BadParams, Callback, Whoami outcome
		Hello, Bye, Transport                            string
	}
	lastJSON(t, out, &sum)
	sum.Add.is(t, "add", "3")
	sum.Named.is(t, "greet", `"hello, node"`)
	sum.Unknown.fails(t, "unknown method", rpc.CodeMethodNotFound)
	sum.BadParams.fails(t, "wrong params", rpc.CodeInvalidParams)
	sum.Callback.is(t, "callback", "42")
	sum.Whoami.is(t, "whoami", `"anonymous"`)
	if sum.Hello != "from OnConnect" || sum.Bye != "done" {
		t.Errorf("notifications: hello %q, bye %q", sum.Hello, sum.Bye)
	}
	wantTransport := tr
	if tr == "upgrade" {
		wantTransport = "websocket"
	}
	if sum.Transport != wantTransport {
		t.Errorf("the client ended on transport %q, want %q", sum.Transport, wantTransport)
	}
	r := <-got
	if r.err != nil || r.mul != 42 || r.echo != text || r.codec != codecName {
		t.Errorf("server-to-client calls: codec %s, mul %d, echo %q, err %v", r.codec, r.mul, r.echo, r.err)
	}
}

// TestEvents: plain socket.io client code (emit with an acknowledgement,
// socket.on with an acknowledgement) over socket.io-client 4 and 2 and
// every transport: the client's emits are served by the router and
// answered through the acknowledgement (results, errors, a panic, bad
// params, a call back into the client, the identity from Accept); the
// server's calls reach the client's listeners (positional and named
// params, an error answer, no answer within AckTimeout); the
// application's own event is untouched.
func TestEvents(t *testing.T) {
	for _, version := range []string{"4", "2"} {
		for _, tr := range transports {
			t.Run(version+"/"+tr, func(t *testing.T) { testEvents(t, version, tr) })
		}
	}
}

type eventsServerSide struct {
	mul                  int
	localTime            map[string]string
	refuseErr, silentErr error
	mulErr, localTimeErr error
	silentTook           time.Duration
}

func testEvents(t *testing.T, version, tr string) {
	notes := make(chan string, 1)
	got := make(chan eventsServerSide, 1)
	f := newFixture(t, socketio4.ServerOptions{
		Handler:    testRouter(notes),
		Accept:     acceptToken,
		AckTimeout: 300 * time.Millisecond,
		OnConnect: func(p *rpc.Peer, _ *socket.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.Notify(ctx, "hello", []string{"from OnConnect"})
			var r eventsServerSide
			r.mul, r.mulErr = rpc.Call[int](ctx, p, "mul", []int{6, 7})
			r.localTime, r.localTimeErr = rpc.Call[map[string]string](ctx, p, "localTime", map[string]string{"zone": "UTC"})
			_, r.refuseErr = rpc.Call[any](ctx, p, "refuse", nil)
			start := time.Now()
			_, r.silentErr = rpc.Call[any](ctx, p, "silent", nil)
			r.silentTook = time.Since(start)
			got <- r
			_ = p.Notify(ctx, "bye", []string{"done"})
		},
	}, nil, func(io *socket.Server) {
		// The application's own event, with its own acknowledgement.
		_ = io.On("connection", func(args ...any) {
			s := args[0].(*socket.Socket)
			_ = s.On("chat", func(args ...any) {
				if ack, ok := args[len(args)-1].(socket.Ack); ok {
					ack([]any{fmt.Sprint("echo: ", args[0])}, nil)
				}
			})
		})
	})
	out := node(t, 30*time.Second, "events.mjs", f.url, tr, version)
	var sum struct {
		Add, Named, Fails, Panics, BadParams, Callback, Whoami outcome
		Own, Hello, Bye, Transport                             string
	}
	lastJSON(t, out, &sum)
	sum.Add.is(t, "add", "3")
	sum.Named.is(t, "greet", `"hello, node"`)
	sum.Fails.fails(t, "fail", rpc.CodeServerError)
	sum.Panics.fails(t, "panic", rpc.CodeInternalError)
	sum.BadParams.fails(t, "bad params", rpc.CodeInvalidParams)
	sum.Callback.is(t, "callback", "42")
	sum.Whoami.is(t, "whoami", `"user:secret"`)
	if sum.Own != "echo: hi" {
		t.Errorf("the application's own event: got %q", sum.Own)
	}
	if sum.Hello != "from OnConnect" || sum.Bye != "done" {
		t.Errorf("notifications: hello %q, bye %q", sum.Hello, sum.Bye)
	}
	select {
	case n := <-notes:
		if n != "from node" {
			t.Errorf("note: %q", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("the client's notification did not arrive")
	}
	r := <-got
	if r.mulErr != nil || r.mul != 42 {
		t.Errorf("mul: %d, %v", r.mul, r.mulErr)
	}
	if r.localTimeErr != nil || r.localTime["zone"] != "UTC" || r.localTime["iso"] != "1970-01-01T00:00:00.000Z" {
		t.Errorf("localTime: %v, %v", r.localTime, r.localTimeErr)
	}
	var e *rpc.Error
	if !errors.As(r.refuseErr, &e) || e.Code != 4001 || e.Message != "not today" || !rpc.IsRemote(r.refuseErr) {
		t.Errorf("refuse: %v", r.refuseErr)
	} else {
		var data struct{ Why string }
		if raw, ok := e.Data.(rpc.Raw); !ok || raw.Decode(&data) != nil || data.Why != "test" {
			t.Errorf("refuse: data %v", e.Data)
		}
	}
	if !errors.As(r.silentErr, &e) || e.Code != rpc.CodeDeadlineExceeded || r.silentTook > 5*time.Second {
		t.Errorf("silent: %v after %v", r.silentErr, r.silentTook)
	}
}

// TestRefused: origins not allowed, a failing Accept, an unknown codec or
// calls style, and a closed server refuse the socket with connect_error;
// no peer is made.
func TestRefused(t *testing.T) {
	var mu sync.Mutex
	// The engine lets every origin through (its own check refuses
	// cross-origin WebSockets unless Cors allows them); the adapter's
	// AllowedOrigins is what refuses here.
	sopts := serverOpts()
	sopts.SetCors(&types.Cors{Origin: "*", Credentials: true})
	f := newFixture(t, socketio4.ServerOptions{Accept: acceptToken, AllowedOrigins: []string{"https://good.example"}}, sopts, nil)
	cases := []struct {
		name, query, headers string
		refused              bool
	}{
		{"plain", "", "", false},
		{"allowed origin", "", `{"Origin":"https://good.example"}`, false},
		{"other origin", "", `{"Origin":"https://evil.example"}`, true},
		{"accept", `{"token":"wrong"}`, "", true},
		{"codec", `{"codec":"xml"}`, "", true},
		{"calls", `{"calls":"smoke"}`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			defer mu.Unlock()
			var res struct {
				Refused bool
				Message string
			}
			lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "4", c.query, c.headers), &res)
			if res.Refused != c.refused {
				t.Errorf("refused %v (%s), want %v", res.Refused, res.Message, c.refused)
			}
		})
	}
	f.waitPeers(t, 0)
	_ = f.srv.Close()
	var res struct{ Refused bool }
	lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "4"), &res)
	if !res.Refused {
		t.Error("a closed server accepted a socket")
	}
}
