// Command auth shows authentication and authorization on a Parley
// WebSocket server: a bearer token checked at the handshake (no token, or
// a wrong one: HTTP 401), the caller's identity in the context of every
// handler, and a per-call check in an interceptor (methods under "admin."
// need the admin role: others get error -32003).
//
//	go run ./examples/auth
//
// It serves ws://127.0.0.1:8081/rpc, plays the story once with Go clients
// (printing what each gets), then keeps serving until interrupted, for
// your own clients, e.g.
//
//	websocat -H 'Authorization: Bearer alice-token' ws://127.0.0.1:8081/rpc
//	{"jsonrpc":"2.0","method":"whoami","id":1}
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// demoTokens are the example's users. Never put real tokens in code.
var demoTokens = Tokens{
	"alice-token": {User: "alice", Roles: []string{"user"}},
	"root-token":  {User: "root", Roles: []string{"admin", "user"}},
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr, plays the demo against itself, writing what happens
// to out, then serves until ctx ends.
func run(ctx context.Context, addr string, out io.Writer) error {
	srv, err := newServer(demoTokens)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/rpc", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	url := "ws://" + ln.Addr().String() + "/rpc"
	fmt.Fprintf(out, "serving %s (tokens: alice-token, root-token)\n", url)
	demoErr := demo(ctx, url, out)
	if demoErr == nil {
		fmt.Fprintln(out, "demo done; serving until interrupted")
		<-ctx.Done()
	}

	// The HTTP server does not own the upgraded connections: close them
	// through the WebSocket server.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	_ = srv.Close()
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return errors.Join(demoErr, err)
}

// demo connects without a token, with a wrong one, as a user and as an
// admin, and prints what each gets.
func demo(ctx context.Context, url string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()

	for _, tc := range []struct{ who, header string }{
		{"no token", ""},
		{"wrong token", "Bearer guess"},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Authorization", tc.header)
		}
		p, err := websocket.Dial(ctx, url, &websocket.DialOptions{Header: h})
		var he *websocket.HandshakeError
		if !errors.As(err, &he) {
			if p != nil {
				_ = p.Close()
			}
			return fmt.Errorf("%s: got %v, want a refused handshake", tc.who, err)
		}
		fmt.Fprintf(out, "%s: refused with HTTP %d (%s)\n", tc.who, he.StatusCode, he.Message)
	}

	for _, user := range []string{"alice", "root"} {
		h := http.Header{"Authorization": {"Bearer " + user + "-token"}}
		p, err := websocket.Dial(ctx, url, &websocket.DialOptions{Header: h})
		if err != nil {
			return fmt.Errorf("%s: %w", user, err)
		}
		defer p.Close() // stay connected, so that admin.users sees everyone

		id, err := rpc.Call[Identity](ctx, p, "whoami", nil)
		if err != nil {
			return fmt.Errorf("%s: whoami: %w", user, err)
		}
		fmt.Fprintf(out, "%s: whoami = %s %v\n", user, id.User, id.Roles)

		users, err := rpc.Call[[]string](ctx, p, "admin.users", nil)
		var rerr *rpc.Error
		switch {
		case err == nil:
			fmt.Fprintf(out, "%s: admin.users = %v\n", user, users)
		case errors.As(err, &rerr) && rerr.Code == CodeForbidden:
			fmt.Fprintf(out, "%s: admin.users refused: %d %s\n", user, rerr.Code, rerr.Message)
		default:
			return fmt.Errorf("%s: admin.users: %w", user, err)
		}
	}
	return nil
}
