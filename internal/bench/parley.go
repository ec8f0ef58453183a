package bench

import (
	"context"
	"errors"
	"net/http"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

var (
	jsonCodec codec.Codec = json.Codec{}
	cborCodec codec.Codec = cbor.Codec{}
)

// addRouter serves "add" as every scenario does: two ints in, their sum
// out. Inline marks the handler [rpc.Inline]: it then runs on the
// goroutine that reads the connection.
func addRouter(inline bool) *rpc.Router {
	var h rpc.Handler = rpc.Func(func(_ context.Context, p [2]int) (int, error) {
		return p[0] + p[1], nil
	})
	if inline {
		h = rpc.Inline(h)
	}
	r := rpc.NewRouter()
	if err := r.Register("add", h); err != nil {
		panic(err) // a static registration: cannot fail
	}
	return r
}

// startParley connects a Parley client to a Parley server over a loopback
// WebSocket with codec c; dir says which end calls "add" on the other, and
// inline whether its handler is [rpc.Inline].
func startParley(c codec.Codec, dir string, inline bool) (Runner, error) {
	opts := &websocket.ServerOptions{}
	dialOpts := &websocket.DialOptions{Codec: c}
	served := make(chan *rpc.Peer, 1)
	if dir == ClientToServer {
		opts.Handler = addRouter(inline)
	} else {
		dialOpts.Handler = addRouter(inline)
		opts.OnConnect = func(p *rpc.Peer, _ *http.Request) { served <- p }
	}
	ws, err := websocket.NewServer(opts)
	if err != nil {
		return nil, err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return nil, errors.Join(err, ws.Close())
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	client, err := websocket.Dial(ctx, srv.URL, dialOpts)
	if err != nil {
		return nil, errors.Join(err, closeAll(ws.Close, srv.Close))
	}
	caller := client
	if dir == ServerToClient {
		select {
		case caller = <-served:
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), closeAll(client.Close, ws.Close, srv.Close))
		}
	}
	// Boxed once: the call itself, not the caller's conversion to any, is measured.
	var params any = [2]int{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := caller.Call(ctx, "add", params, &got)
			return check(got, err)
		},
		close: func() error { return closeAll(client.Close, ws.Close, srv.Close) },
	}, nil
}
