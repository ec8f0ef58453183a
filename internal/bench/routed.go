package bench

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"

	"github.com/gammazero/nexus/v3/client"
	"github.com/gammazero/nexus/v3/router"
	"github.com/gammazero/nexus/v3/wamp"
	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// Routed calls: a caller calls "add" through a router to a callee that
// registered it, each end a client of its own WebSocket connection to the
// router. Parley's hub against nexus, a WAMP router, both with JSON.

// Routed is the direction of the routed-call scenarios: caller to router
// to callee and back.
const Routed = "routed"

// routedAdd are hub.call's params for add([1,2]).
type routedAdd struct {
	Procedure string `json:"procedure"`
	Params    [2]int `json:"params"`
}

// startHub serves a hub over WebSocket and connects a callee that
// registers "add" and a caller, both with codec c; inline marks the
// callee's handler [rpc.Inline].
func startHub(c codec.Codec, inline bool) (Runner, error) {
	h, err := hub.New(nil)
	if err != nil {
		return nil, err
	}
	routes := rpc.NewRouter()
	if err := h.Mount(routes); err != nil {
		return nil, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		return nil, err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return nil, errors.Join(err, ws.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	stop := func() error { return closeAll(ws.Close, srv.Close, h.Close) }
	callee, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Codec: c, Handler: addRouter(inline)})
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	if err := callee.Call(ctx, hub.MethodRegister, map[string]string{"procedure": "add"}, nil); err != nil {
		return nil, errors.Join(err, closeAll(callee.Close, stop))
	}
	caller, err := websocket.Dial(ctx, srv.URL, &websocket.DialOptions{Codec: c})
	if err != nil {
		return nil, errors.Join(err, closeAll(callee.Close, stop))
	}
	var params any = routedAdd{Procedure: "add", Params: [2]int{1, 2}}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := caller.Call(ctx, hub.MethodCall, params, &got)
			return check(got, err)
		},
		close: func() error { return closeAll(caller.Close, callee.Close, stop) },
	}, nil
}

// startNexus serves a nexus router over WebSocket (JSON) and connects a
// callee that registers "add" and a caller.
func startNexus() (Runner, error) {
	quiet := log.New(io.Discard, "", 0)
	r, err := router.NewRouter(&router.Config{RealmConfigs: []*router.RealmConfig{{URI: "bench", AnonymousAuth: true}}}, quiet)
	if err != nil {
		return nil, err
	}
	srv, err := serveHTTP(router.NewWebsocketServer(r))
	if err != nil {
		r.Close()
		return nil, err
	}
	stop := func() error {
		err := srv.Close()
		r.Close()
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	cfg := client.Config{Realm: "bench", Logger: quiet, Serialization: client.JSON}
	callee, err := client.ConnectNet(ctx, srv.URL, cfg)
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	add := func(_ context.Context, inv *wamp.Invocation) client.InvokeResult {
		if len(inv.Arguments) != 2 {
			return client.InvokeResult{Err: wamp.ErrInvalidArgument}
		}
		a, _ := wamp.AsInt64(inv.Arguments[0])
		b, _ := wamp.AsInt64(inv.Arguments[1])
		return client.InvokeResult{Args: wamp.List{a + b}}
	}
	if err := callee.Register("add", add, nil); err != nil {
		return nil, errors.Join(err, closeAll(callee.Close, stop))
	}
	caller, err := client.ConnectNet(ctx, srv.URL, cfg)
	if err != nil {
		return nil, errors.Join(err, closeAll(callee.Close, stop))
	}
	args := wamp.List{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			res, err := caller.Call(ctx, "add", nil, args, nil, nil)
			if err != nil {
				return err
			}
			var got int64
			if len(res.Arguments) == 1 {
				got, _ = wamp.AsInt64(res.Arguments[0])
			}
			return check(int(got), nil)
		},
		close: func() error { return closeAll(caller.Close, callee.Close, stop) },
	}, nil
}

// startRawRelay is the routed call's floor: gorilla/websocket with no RPC
// layer. The relay copies each message from the caller's connection to
// the callee's and back, one goroutine per direction; the callee answers
// each request it reads with the raw echo's answer. The caller sends the
// raw echo's request, as the raw echo does.
func startRawRelay() (Runner, error) {
	callees := make(chan *gorilla.Conn, 1)
	srv, err := serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		if r.URL.RawQuery == "callee" {
			callees <- ws
			return
		}
		callee := <-callees
		defer closeAll(ws.Close, callee.Close)
		go relay(ws, callee)
		relay(callee, ws)
	}))
	if err != nil {
		return nil, err
	}
	d := gorilla.Dialer{HandshakeTimeout: setupTimeout}
	callee, _, err := d.Dial(srv.URL+"?callee", nil)
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	go func() {
		for {
			if _, _, err := callee.ReadMessage(); err != nil {
				return
			}
			if err := callee.WriteMessage(gorilla.TextMessage, answer); err != nil {
				return
			}
		}
	}()
	caller, _, err := d.Dial(srv.URL, nil)
	if err != nil {
		return nil, errors.Join(err, closeAll(callee.Close, srv.Close))
	}
	return &rawRunner{srv: srv, seq: caller, pipe: caller, close: callee.Close}, nil
}

// relay copies messages from one connection to another until either ends.
func relay(from, to *gorilla.Conn) {
	for {
		typ, msg, err := from.ReadMessage()
		if err != nil {
			_ = to.Close()
			return
		}
		if err := to.WriteMessage(typ, msg); err != nil {
			_ = from.Close()
			return
		}
	}
}
