package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// server is the example's RPC endpoint: every client authenticates with a
// bearer token at the WebSocket handshake; handlers see who called; admin
// methods are for admins.
type server struct {
	ws     *websocket.Server
	tokens Tokens
	peers  rpc.PeerSet // each client under "user/n"
	n      atomic.Int64
}

func newServer(tokens Tokens) (*server, error) {
	s := &server{tokens: tokens}
	routes := rpc.NewRouter()
	if err := routes.Register("whoami", rpc.Func(s.whoami)); err != nil {
		return nil, err
	}
	if err := routes.Register("admin.users", rpc.Func(s.users)); err != nil {
		return nil, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{
		Handler:   routes,
		Accept:    tokens.accept,
		OnConnect: s.connected,
	})
	if err != nil {
		return nil, err
	}
	s.ws = ws
	return s, nil
}

// ServeHTTP serves the WebSocket endpoint.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.ws.ServeHTTP(w, r) }

// Close closes every connection.
func (s *server) Close() error { return s.ws.Close() }

// connected files the new peer under its user's name, so that admin.users
// can list who is connected. Accept has checked the token already.
//
// OnConnect runs once the peer is serving: the client's first calls may be
// handled before it has run. Nothing here depends on it for safety (the
// identity comes from Accept); admin.users counts the caller itself in
// any case.
func (s *server) connected(p *rpc.Peer, r *http.Request) {
	id, _ := s.tokens.lookup(bearer(r))
	_, _ = s.peers.Add(fmt.Sprintf("%s/%d", id.User, s.n.Add(1)), p)
}

// whoami answers with the caller's identity, taken from the context.
func (s *server) whoami(ctx context.Context, _ struct{}) (Identity, error) {
	id, _ := IdentityFrom(ctx) // always there: authorize refuses calls without one
	return id, nil
}

// users lists the users connected now, the caller included; only admins
// get this far.
func (s *server) users(ctx context.Context, _ struct{}) ([]string, error) {
	var users []string
	if id, ok := IdentityFrom(ctx); ok {
		users = append(users, id.User)
	}
	for _, key := range s.peers.IDs() {
		user, _, _ := strings.Cut(key, "/")
		users = append(users, user)
	}
	slices.Sort(users)
	return slices.Compact(users), nil
}
