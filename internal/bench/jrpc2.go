package bench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/channel"
	"github.com/creachadair/jrpc2/handler"
	gorilla "github.com/gorilla/websocket"
)

// wsChannel is a jrpc2 channel.Channel over a gorilla connection: one
// record per WebSocket message. jrpc2 promises one sender and one
// receiver at a time; the write lock makes the sender side safe anyway,
// since a server both answers and pushes.
type wsChannel struct {
	ws *gorilla.Conn
	mu sync.Mutex
}

var _ channel.Channel = (*wsChannel)(nil)

func (c *wsChannel) Send(rec []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(gorilla.TextMessage, rec)
}

func (c *wsChannel) Recv() ([]byte, error) {
	_, rec, err := c.ws.ReadMessage()
	if err != nil && gorilla.IsCloseError(err, gorilla.CloseNormalClosure, gorilla.CloseGoingAway, gorilla.CloseNoStatusReceived, gorilla.CloseAbnormalClosure) {
		return nil, io.EOF // the end of the records, as channel.Channel wants it said
	}
	return rec, err
}

func (c *wsChannel) Close() error { return c.ws.Close() }

// jrpc2Add is the "add" method; handler.New builds its decoding once.
var jrpc2Add = handler.New(func(_ context.Context, p [2]int) (int, error) { return p[0] + p[1], nil })

// startJrpc2 connects a jrpc2 client to a jrpc2 server, one server per
// connection as jrpc2 has it. Server-to-client calls use jrpc2's push
// extension (AllowPush on the server, OnCallback on the client). Options
// are otherwise jrpc2's defaults.
func startJrpc2(dir string) (Runner, error) {
	var (
		methods jrpc2.Assigner = handler.Map{}
		clOpts                 = &jrpc2.ClientOptions{}
	)
	if dir == ClientToServer {
		methods = handler.Map{"add": jrpc2Add}
	} else {
		clOpts.OnCallback = func(ctx context.Context, req *jrpc2.Request) (any, error) {
			if req.Method() != "add" {
				return nil, jrpc2.Errorf(jrpc2.MethodNotFound, "no method %q", req.Method())
			}
			return jrpc2Add(ctx, req)
		}
	}
	served := make(chan *jrpc2.Server, 1)
	srv, err := serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		served <- jrpc2.NewServer(methods, &jrpc2.ServerOptions{AllowPush: true}).Start(&wsChannel{ws: ws})
	}))
	if err != nil {
		return nil, err
	}
	d := gorilla.Dialer{HandshakeTimeout: setupTimeout}
	ws, _, err := d.Dial(srv.URL, nil)
	if err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	client := jrpc2.NewClient(&wsChannel{ws: ws}, clOpts)
	server := <-served
	// Boxed once: the call itself, not the caller's conversion to any, is measured.
	var params any = [2]int{1, 2}
	call := func(ctx context.Context) error {
		var got int
		err := client.CallResult(ctx, "add", params, &got)
		return check(got, err)
	}
	if dir == ServerToClient {
		call = func(ctx context.Context) error {
			rsp, err := server.Callback(ctx, "add", params)
			if err != nil {
				return err
			}
			var got int
			err = rsp.UnmarshalResult(&got)
			return check(got, err)
		}
	}
	return &callRunner{
		call: call,
		close: func() error {
			err := client.Close()
			server.Stop()
			_ = server.Wait() // the client went first: the server ends with it
			return errors.Join(err, srv.Close())
		},
	}, nil
}
