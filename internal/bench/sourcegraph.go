package bench

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	gorilla "github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	sgws "github.com/sourcegraph/jsonrpc2/websocket"
)

// sourcegraph/jsonrpc2 runs handlers on its read loop unless wrapped in
// AsyncHandler. The suite wraps them, as a server whose handlers may call
// back or take time must: each request gets a goroutine of its own.
// (Parley's handlers have that freedom by default: each call's handler
// runs on a goroutine of its own.)

// quiet drops sourcegraph's log lines (a closed connection is logged as
// a protocol error).
type quiet struct{}

func (quiet) Printf(string, ...any) {}

var sourcegraphAdd = jsonrpc2.AsyncHandler(jsonrpc2.HandlerWithError(
	func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		var p [2]int
		if req.Params == nil {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: "no params"}
		}
		if err := json.Unmarshal(*req.Params, &p); err != nil {
			return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: err.Error()}
		}
		return p[0] + p[1], nil
	}))

// noCalls answers every request "method not found": the end that only
// calls has nothing to serve.
var noCalls = jsonrpc2.HandlerWithError(func(context.Context, *jsonrpc2.Conn, *jsonrpc2.Request) (any, error) {
	return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "no methods here"}
})

func startSourcegraph(dir string) (Runner, error) {
	serverHandler, clientHandler := jsonrpc2.Handler(sourcegraphAdd), jsonrpc2.Handler(noCalls)
	if dir == ServerToClient {
		serverHandler, clientHandler = noCalls, sourcegraphAdd
	}
	served := make(chan *jsonrpc2.Conn, 1)
	srv, err := serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		served <- jsonrpc2.NewConn(context.Background(), sgws.NewObjectStream(ws), serverHandler, jsonrpc2.SetLogger(quiet{}))
	}))
	if err != nil {
		return nil, err
	}
	d := gorilla.Dialer{HandshakeTimeout: setupTimeout}
	ws, _, err := d.Dial(srv.URL, nil)
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	client := jsonrpc2.NewConn(context.Background(), sgws.NewObjectStream(ws), clientHandler, jsonrpc2.SetLogger(quiet{}))
	server := <-served // the handshake is done: the handler has sent it
	caller := client
	if dir == ServerToClient {
		caller = server
	}
	// Boxed once: the call itself, not the caller's conversion to any, is measured.
	var params any = [2]int{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := caller.Call(ctx, "add", params, &got)
			return check(got, err)
		},
		close: func() error {
			err := closeAll(sgClose(client), sgClose(server), srv.Close)
			<-client.DisconnectNotify()
			<-server.DisconnectNotify()
			return err
		},
	}, nil
}

// sgClose closes c, not counting a close that came second as a failure.
func sgClose(c *jsonrpc2.Conn) func() error {
	return func() error {
		if err := c.Close(); !errors.Is(err, jsonrpc2.ErrClosed) {
			return err
		}
		return nil
	}
}
