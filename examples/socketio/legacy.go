package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	sio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/websocket"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// The -legacy program: the same application on go-socket.io v1.7.0,
// which speaks Engine.IO 3 only (socket.io-client 2.x), with Parley
// attached through adapters/socketio. go-socket.io cannot serve
// acknowledgements as calls safely, so JSON-RPC 2.0 travels on one more
// event, "rpc", both ways (legacy.html).

// legacyApp is the socket.io application that was there before Parley: a
// chat room on the event "chat" and an "echo" answered by acknowledgement.
// Nothing here knows about Parley.
type legacyApp struct {
	io *sio.Server
	*printer
}

// startLegacy starts the go-socket.io server with Parley attached and
// returns its handler for /socket.io/ and the function that stops it
// after the HTTP server has shut down.
func startLegacy(p *printer) (http.Handler, func(), error) {
	// The websocket transport only: go-socket.io answers a POST sent
	// during a polling-to-websocket upgrade with 400, and an abandoned
	// polling handshake stays in its table for good.
	a := &legacyApp{
		io:      sio.NewServer(&engineio.Options{Transports: []transport.Transport{websocket.Default}}),
		printer: p,
	}
	a.registerEvents()
	var asking sync.WaitGroup
	rpcsrv, err := a.addParley(&asking)
	if err != nil {
		return nil, nil, err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = a.io.Serve()
	}()
	stop := func() {
		// The order go-socket.io needs (after the HTTP server's Shutdown:
		// no new handshakes): close the connections, let its sessions
		// drain, and only then close it (a handshake completing after its
		// Close would panic).
		rpcsrv.Close()
		deadline := time.Now().Add(5 * time.Second)
		for a.io.Count() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		a.io.Close()
		<-served
		asking.Wait()
	}
	return a.io, stop, nil
}

// registerEvents registers the application's own events. Arguments are
// taken as strings: go-socket.io drops a client whose argument does not
// decode into the declared type.
func (a *legacyApp) registerEvents() {
	a.io.OnEvent("/", "chat", func(conn sio.Conn, text string) string {
		line := legacyName(conn) + ": " + text
		a.printf("chat %s", line)
		a.io.BroadcastToRoom("/", "lobby", "chat", line)
		return "sent"
	})
	// ("ping" would not do: socket.io-client 2 keeps that name for itself.)
	a.io.OnEvent("/", "echo", func(conn sio.Conn, text string) string { return "echo: " + text })
}

// onConnect and onDisconnect are the application's own connect hooks.
// go-socket.io keeps one of each per namespace, so with Parley attached
// they are given to Attach, which calls them.
func (a *legacyApp) onConnect(conn sio.Conn) error {
	conn.Join("lobby")
	a.printf("socket.io: %s connected (connection %s)", legacyName(conn), conn.ID())
	return nil
}

func (a *legacyApp) onDisconnect(conn sio.Conn, reason string) {
	a.printf("socket.io: %s left (%s)", legacyName(conn), reason)
}

// legacyName is the name a client gave in its handshake (?name=...).
func legacyName(conn sio.Conn) string {
	u := conn.URL()
	if name := u.Query().Get("name"); name != "" {
		return clip(name)
	}
	return "anonymous-" + conn.ID()
}

// addParley attaches Parley to the application's socket.io server: calls
// both ways on the event "rpc". The application's own events are left as
// they are; its connect hooks go through Attach (see onConnect).
func (a *legacyApp) addParley(asking *sync.WaitGroup) (*socketio.Server, error) {
	routes := rpc.NewRouter()
	err := errors.Join(
		routes.Register("add", rpc.Func(add)),
		routes.Register("hello", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
			return greeting(p.Name), nil
		})),
	)
	if err != nil {
		return nil, err
	}
	return socketio.Attach(a.io, &socketio.ServerOptions{
		Handler:            routes,
		SocketOnConnect:    a.onConnect,
		SocketOnDisconnect: a.onDisconnect,
		// The server calls each new client: from a goroutine, since the
		// answer cannot arrive while OnConnect runs.
		OnConnect: func(p *rpc.Peer, conn sio.Conn) {
			name := legacyName(conn)
			asking.Add(1)
			go func() {
				defer asking.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				who, err := rpc.Call[Whoami](ctx, p, "whoami", nil)
				if err != nil {
					a.printf("rpc: whoami of %s failed: %v", name, err)
					return
				}
				a.printf("rpc: asked %s who it is: %q (%s)", name, who.Name, who.Agent)
			}()
		},
	})
}

// greeting is what "hello" answers.
func greeting(name string) string {
	return fmt.Sprintf("Hello, %s! The server's clock says %s.", name, time.Now().Format("15:04:05"))
}
