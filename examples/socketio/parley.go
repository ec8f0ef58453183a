package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// Whoami is what a client answers when the server asks who it is.
type Whoami struct {
	Name  string `json:"name"`
	Agent string `json:"agent"`
}

// addParley attaches Parley to the application's socket.io server: calls
// both ways on the event "rpc". The application's own events are left as
// they are; its connect hooks go through Attach (see app.onConnect).
func addParley(a *app, asking *sync.WaitGroup) (*socketio.Server, error) {
	routes := rpc.NewRouter()
	err := errors.Join(
		routes.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
			sum := 0
			for _, n := range p {
				sum += n
			}
			return sum, nil
		})),
		routes.Register("hello", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
			return fmt.Sprintf("Hello, %s! The server's clock says %s.", p.Name, time.Now().Format("15:04:05")), nil
		})),
	)
	if err != nil {
		return nil, err
	}
	return socketio.Attach(a.io, &socketio.Options{
		Handler:      routes,
		OnConnect:    a.onConnect,
		OnDisconnect: a.onDisconnect,
		// The server calls each new client: from a goroutine, since the
		// answer cannot arrive while OnPeer runs.
		OnPeer: func(p *rpc.Peer, conn sio.Conn) {
			name := nameOf(conn)
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
