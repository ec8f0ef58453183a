package main

import (
	"context"
	"errors"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

// Whoami is what a client answers when the server asks who it is.
type Whoami struct {
	Name  string `json:"name"`
	Agent string `json:"agent"`
}

// nameKey carries a client's name from its handshake to the handlers.
type nameKey struct{}

func add(_ context.Context, p []int) (int, error) {
	sum := 0
	for _, n := range p {
		sum += n
	}
	return sum, nil
}

// addParley attaches Parley to the application's socket.io server. The
// router's methods become events answered through the client's
// acknowledgement (socket.emitWithAck("add", 2, 3)), and the server calls
// a client's listener (socket.on("whoami", (question, ack) => ack(...))).
// The application's own events ("chat", "echo") are not methods: they
// stay the application's.
func (a *app) addParley() (*socketio4.Server, error) {
	routes := rpc.NewRouter()
	err := errors.Join(
		routes.Register("add", rpc.Func(add)),
		// The name comes from the handshake, through Accept.
		routes.Register("hello", rpc.Func(func(ctx context.Context, _ any) (string, error) {
			name, _ := rpc.PeerFromContext(ctx).Value(nameKey{}).(string)
			return greeting(name), nil
		})),
	)
	if err != nil {
		return nil, err
	}
	return socketio4.Attach(a.io, &socketio4.ServerOptions{
		Handler: routes,
		// The handshake: where a real server would authenticate.
		Accept: func(s *socket.Socket) ([]rpc.Option, error) {
			return []rpc.Option{rpc.WithValue(nameKey{}, nameOf(s))}, nil
		},
		// OnConnect runs on a goroutine of its own: it may wait for the
		// client's answer (Close waits for it).
		OnConnect: func(p *rpc.Peer, s *socket.Socket) {
			name := nameOf(s)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			who, err := rpc.Call[Whoami](ctx, p, "whoami", map[string]string{"asker": "the server"})
			if err != nil {
				a.printf("rpc: whoami of %s failed: %v", name, err)
				return
			}
			a.printf("rpc: asked %s who it is: %q (%s)", name, who.Name, who.Agent)
		},
	})
}
