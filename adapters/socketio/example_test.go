package socketio_test

import (
	"context"
	"errors"
	"log"
	"net/http"
	"time"

	gosocketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/websocket"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// A server that serves JSON-RPC 2.0 on the "rpc" event next to its own
// "chat" event, calls every client, and shuts down in the order
// go-socket.io needs. (Compiled, not run: it listens on a port.)
func Example() {
	router := rpc.NewRouter()
	router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		return p[0] + p[1], nil
	}))
	peers := new(rpc.PeerSet)

	// The websocket transport only: no polling sessions to abandon, no
	// failed upgrades.
	io := gosocketio.NewServer(&engineio.Options{
		Transports: []transport.Transport{websocket.Default},
	})
	io.OnEvent("/", "chat", func(conn gosocketio.Conn, msg string) string { return "echo: " + msg })

	srv, err := socketio.Attach(io, &socketio.ServerOptions{
		Handler: router,
		Peers:   peers, // each peer under conn.ID()
		Accept: func(conn gosocketio.Conn) ([]rpc.Option, error) {
			u := conn.URL()
			if u.Query().Get("token") != "let-me-in" { // io(url, {query: {token}})
				return nil, errors.New("not authenticated")
			}
			return nil, nil
		},
		// Your own connect handler goes here, not on io.
		SocketOnConnect: func(conn gosocketio.Conn) error {
			log.Println("connected:", conn.ID())
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = io.Serve() }()

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: mux}
	go func() { _ = hs.ListenAndServe() }()

	// Later: ask every client who it is, two seconds each.
	for _, r := range rpc.CallAll[string](context.Background(), peers, "whoami", nil, 2*time.Second) {
		log.Println(r.ID, r.Result, r.Err)
	}

	// Shut down: HTTP first, then the adapter, then go-socket.io.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(ctx)
	_ = srv.Close()
	_ = io.Close()
}
