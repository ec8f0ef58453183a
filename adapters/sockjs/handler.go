package sockjs

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"
)

// DefaultWriteTimeout is the WebSocket write timeout [Server.Handler] sets
// when the options leave it zero, so that a client that stops reading
// cannot hold a session's writes (and its close) for ever.
const DefaultWriteTimeout = 10 * time.Second

// Handler returns an http.Handler serving this Server's sessions at
// prefix, to be mounted at prefix + "/" (sockjs-go's convention). opts nil
// means [DefaultOptions]. The options are copied, together with the
// websocket upgrader they point to; in the copy, CheckOrigin and the
// upgrader's CheckOrigin are set to [Server.CheckOrigin] where they are
// nil (where they are set, a request must pass both), and a zero
// WebsocketWriteTimeout becomes [DefaultWriteTimeout]. The handler is
// wrapped with [Server.Guard].
func (s *Server) Handler(prefix string, opts *Options) http.Handler {
	o := sockjsgo.DefaultOptions
	if opts != nil {
		o = *opts
	}
	if o.CheckOrigin == nil {
		o.CheckOrigin = s.CheckOrigin
	}
	// The upgrader is copied, not changed: it may be shared. A nil one
	// gets a copy of the default (sockjs-go would use a zero one, whose
	// same-origin check would refuse the origins allowed here).
	up := o.WebsocketUpgrader
	if up == nil {
		up = sockjsgo.DefaultOptions.WebsocketUpgrader
	}
	if up != nil {
		c := *up
		if c.CheckOrigin == nil {
			c.CheckOrigin = s.CheckOrigin
		}
		o.WebsocketUpgrader = &c
	}
	if o.WebsocketWriteTimeout == 0 {
		o.WebsocketWriteTimeout = DefaultWriteTimeout
	}
	return s.Guard(sockjsgo.NewHandler(prefix, o, s.HandleSession))
}

// Guard wraps a SockJS handler (one built with sockjs-go's NewHandler and
// [Server.HandleSession]) with what sockjs-go lacks:
//
//   - a request whose Origin [Server.CheckOrigin] refuses gets 403;
//   - a POST body longer than [ServerOptions.ReadLimit] gets 413
//     (sockjs-go would read any size, and answer 204 to a body it failed
//     to read);
//   - on a WebSocket upgrade, the connection is watched so that a message
//     longer than ReadLimit (counted across its frames, from the frame
//     headers, before the payload arrives) fails the read and drops that
//     connection.
func (s *Server) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.CheckOrigin(r) {
			http.Error(w, "sockjs: origin not allowed", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodPost && r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > s.readLimit {
				http.Error(w, "sockjs: request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.readLimit))
			if err != nil {
				if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
					http.Error(w, "sockjs: request body too large", http.StatusRequestEntityTooLarge)
				} else {
					http.Error(w, "sockjs: reading the request body failed", http.StatusBadRequest)
				}
				return
			}
			r = r.WithContext(r.Context()) // a shallow copy: the caller's request keeps its Body
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if isWebSocketUpgrade(r) {
			w = &limitedHijacker{ResponseWriter: w, limit: s.readLimit}
		}
		h.ServeHTTP(w, r)
	})
}

// isWebSocketUpgrade reports whether r asks for a WebSocket.
func isWebSocketUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
