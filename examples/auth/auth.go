package main

import (
	"context"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// Identity is who is at the other end of a connection, as its token says.
type Identity struct {
	User  string   `json:"user"`
	Roles []string `json:"roles"`
}

// Has reports whether the identity has role.
func (id Identity) Has(role string) bool { return slices.Contains(id.Roles, role) }

// Tokens maps bearer tokens to identities. A real server asks its
// identity provider (verifies a JWT, looks up a session); the shape of the
// code around it stays the same.
type Tokens map[string]Identity

// lookup returns the identity of token. It compares in constant time, so
// that the time it takes says nothing about how close a guess was.
func (ts Tokens) lookup(token string) (Identity, bool) {
	var found Identity
	ok := false
	for t, id := range ts {
		if subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			found, ok = id, true
		}
	}
	return found, ok
}

// bearer returns the token of a handshake: the Authorization header
// ("Bearer <token>"), which Go and node clients can set, or else the
// access_token query parameter, the only way a browser's WebSocket can
// send one (it cannot set headers). A token in a URL may end up in proxy
// logs: give browsers short-lived tokens.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if token, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// accept is the server's ServerOptions.Accept: it runs for every handshake
// before the upgrade. No token, or an unknown one, refuses the handshake
// with 401; a good one gives the connection's peer two interceptors: one
// that puts the identity in the context of every call and notification
// the client sends, then the authorization check, which reads it.
//
// Both go here, in that order: the first interceptor given is the
// outermost, and interceptors in ServerOptions.PeerOptions come before
// (outside) those Accept returns, so an authorization check placed there
// would run before the identity is in the context.
func (ts Tokens) accept(r *http.Request) ([]rpc.Option, error) {
	token := bearer(r)
	if token == "" {
		return nil, &websocket.HTTPError{Status: http.StatusUnauthorized, Message: "a bearer token is required"}
	}
	id, ok := ts.lookup(token)
	if !ok {
		return nil, &websocket.HTTPError{Status: http.StatusUnauthorized, Message: "unknown token"}
	}
	return []rpc.Option{rpc.WithInterceptors(withIdentity(id), authorize)}, nil
}

// identityKey is the context key of the caller's identity.
type identityKey struct{}

// withIdentity returns an inbound interceptor that adds id to the context
// of every call and notification of one connection. Accept builds one per
// connection, so the identity needs no lookup by peer.
func withIdentity(id Identity) rpc.Interceptor {
	return rpc.InboundInterceptor(func(next rpc.Handler) rpc.Handler {
		return rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			return next.Handle(context.WithValue(ctx, identityKey{}, id), req)
		})
	})
}

// IdentityFrom returns the identity of the client whose call ctx belongs
// to.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// CodeForbidden answers a call the caller's identity may not make. It is
// in the range JSON-RPC 2.0 leaves to servers (-32000 to -32099).
const CodeForbidden rpc.Code = -32003

// authorize is an inbound interceptor that checks every call and
// notification against the caller's roles: methods under "admin." need
// the admin role. It runs inside withIdentity (see accept), so the
// identity is in the context; a call without one is refused, so that a
// mistake in the wiring fails closed.
var authorize rpc.Interceptor = rpc.InboundInterceptor(func(next rpc.Handler) rpc.Handler {
	return rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		id, ok := IdentityFrom(ctx)
		if !ok {
			return nil, rpc.Errorf(CodeForbidden, "forbidden: no identity")
		}
		if strings.HasPrefix(req.Method, "admin.") && !id.Has("admin") {
			return nil, rpc.Errorf(CodeForbidden, "forbidden: %s needs the admin role, and %s does not have it", req.Method, id.User)
		}
		return next.Handle(ctx, req)
	})
})
