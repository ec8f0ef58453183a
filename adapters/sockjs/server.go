package sockjs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"unicode/utf8"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/origin"
	"github.com/parleyrpc/parley/rpc"
)

// Session is a SockJS session of sockjs-go (github.com/igm/sockjs-go/v3,
// whose package is also named sockjs): the same type, named here so that
// hooks can take it without importing sockjs-go under another name.
// Request() is the HTTP request that opened the session, ID() its session
// id ("" on the raw websocket endpoint).
type Session = sockjsgo.Session

// Options are sockjs-go's handler options, the same type, named here for
// [Server.Handler] and [DefaultOptions].
type Options = sockjsgo.Options

// DefaultOptions returns a copy of sockjs-go's default options, with a
// copy of the websocket upgrader they point to, ready to change and pass
// to [Server.Handler]. sockjs-go's own DefaultOptions stay untouched.
func DefaultOptions() Options {
	o := sockjsgo.DefaultOptions
	if o.WebsocketUpgrader != nil {
		up := *o.WebsocketUpgrader
		o.WebsocketUpgrader = &up
	}
	return o
}

// Close codes this package sends when it ends a session. The client sees
// them as the code of its close event (sockjs-client) or of the WebSocket
// close frame (raw websocket endpoint); the reason goes with them.
const (
	// CloseNormal: the server-side Peer was closed.
	CloseNormal = 1000
	// CloseGoingAway: [Server.Close] ended the session.
	CloseGoingAway = 1001
	// CloseRefused: [ServerOptions.Accept] returned an error; the reason
	// is the error's text.
	CloseRefused = 4001
	// CloseForbidden: the request that opened the session came from an
	// origin that is not allowed.
	CloseForbidden = 4003
	// CloseInternal: the session could not be set up (the options Accept
	// returned were refused by rpc.NewPeer, the Peer could not join
	// [ServerOptions.Peers]), or Accept or OnConnect panicked.
	CloseInternal = 4011
)

// maxReason is the longest close reason sent, in bytes: a WebSocket close
// frame holds 125 bytes, two of them the code.
const maxReason = 123

// ServerOptions configure a [Server]. The zero value serves JSON with the
// Peer's defaults and no handler.
type ServerOptions struct {
	// Handler serves the calls and notifications of every session;
	// usually an [*rpc.Router]. It is the same for all sessions; for one
	// per session, return rpc.WithHandler from Accept.
	Handler rpc.Handler

	// PeerOptions apply to every session's Peer, after Handler; typically
	// limits and interceptors. Later options override earlier ones. They
	// are checked by [NewServer]. The codec is always [ServerOptions.Codec]:
	// an rpc.WithCodec here has no effect.
	PeerOptions []rpc.Option

	// Codec is the codec of every session of this endpoint; nil means
	// JSON (codec/json). A codec whose Binary method is true is carried as
	// base64 text (see the package documentation).
	Codec codec.Codec

	// Accept, if set, is called for each new session that passed the
	// origin check, before its Peer exists and before any message from
	// the client is read: authenticate there. s.Request() is the HTTP
	// request that opened the session (its context ends when that request
	// does: at once for the polling transports) and s.ID() the session id
	// ("" on the raw websocket endpoint). The options it returns apply
	// after PeerOptions, for this session only; rpc.WithValue there puts
	// what it learned (the user, say) in every handler's context and in
	// Peer.Value. An error refuses the session: it is closed with
	// [CloseRefused] and the error's text as the reason (clients see it).
	Accept func(s Session) ([]rpc.Option, error)

	// OnConnect, if set, is called with each new Peer and its session,
	// after the Peer has joined Peers. The Peer is already serving: calls
	// from the client may be handled while OnConnect runs, and OnConnect
	// may call the client and wait for the answer. It runs on a goroutine
	// of its own; [Server.Close] waits for it. It cannot refuse the
	// session (that is Accept's job); it may close the Peer.
	OnConnect func(p *rpc.Peer, s Session)

	// Peers, if set, receives every Peer under its session id, or under
	// an id the set makes up when the session has none (raw websocket
	// endpoint). A Peer leaves the set by itself when its session ends.
	Peers *rpc.PeerSet

	// AllowedOrigins lists the browser origins allowed besides the
	// server's own. A request with no Origin header (not from a browser)
	// is always allowed; one from the same host as the request is too;
	// others must match an entry. An entry with a scheme
	// ("https://app.example.com") is matched against the whole origin,
	// one without ("*.example.com", "localhost:*") against its
	// host[:port]; both are path.Match patterns, case-insensitive, and
	// "*" allows any origin. These are the rules of adapters/websocket.
	// See [Server.CheckOrigin].
	AllowedOrigins []string

	// Logger, if set, is where the Server reports a panic in Accept or
	// OnConnect; the default is slog.Default(). The Peers log through
	// their own rpc.WithLogger option.
	Logger *slog.Logger

	// ReadLimit bounds, in bytes, one WebSocket message and one HTTP
	// request body that sockjs-go reads; it is applied by [Server.Guard].
	// Zero means four times the Peer's maximum message size.
	ReadLimit int64
}

// Server makes a Peer for each SockJS session. Its methods are safe for
// concurrent use. One Server serves one codec; serve two endpoints
// (sharing a PeerSet) to offer JSON and CBOR.
type Server struct {
	codec     codec.Codec
	base      []rpc.Option // Handler and PeerOptions; the codec goes last
	accept    func(Session) ([]rpc.Option, error)
	onConnect func(*rpc.Peer, Session)
	peers     *rpc.PeerSet
	origins   origin.Policy
	readLimit int64
	log       *slog.Logger

	mu       sync.Mutex
	closed   bool
	sessions map[*transport]*rpc.Peer
	running  sync.WaitGroup // session handlers and OnConnect hooks still running
}

// NewServer checks opts and returns a Server. It keeps a copy of opts
// (nil means all defaults) and never modifies the caller's. A bad Peer
// option, origin pattern or read limit is reported here, not on every
// session.
func NewServer(opts *ServerOptions) (*Server, error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Codec == nil {
		o.Codec = json.Codec{}
	}
	if o.ReadLimit < 0 {
		return nil, fmt.Errorf("sockjs: NewServer: negative ReadLimit %d", o.ReadLimit)
	}
	origins, err := origin.New("sockjs: AllowedOrigins", o.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	var base []rpc.Option
	if o.Handler != nil {
		base = append(base, rpc.WithHandler(o.Handler))
	}
	base = append(base, o.PeerOptions...)
	settings, err := rpc.CheckOptions(append(slices.Clip(base), rpc.WithCodec(o.Codec))...)
	if err != nil {
		return nil, fmt.Errorf("sockjs: PeerOptions: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = 4 * int64(settings.MaxMessageSize)
	}
	return &Server{
		codec:     o.Codec,
		base:      slices.Clip(base),
		accept:    o.Accept,
		onConnect: o.OnConnect,
		peers:     o.Peers,
		origins:   origins,
		readLimit: o.ReadLimit,
		log:       o.Logger,
		sessions:  make(map[*transport]*rpc.Peer),
	}, nil
}

// Codec returns the codec the Server's Peers use.
func (s *Server) Codec() codec.Codec { return s.codec }

// HandleSession serves one SockJS session: it is what [Server.Handler]
// gives sockjs-go, and what to pass to sockjs-go's NewHandler when you
// mount it yourself. It returns when the session has ended.
func (s *Server) HandleSession(sess Session) {
	if !s.CheckOrigin(sess.Request()) {
		_ = sess.Close(CloseForbidden, "origin not allowed")
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed { // checked again below, once the Peer exists
		_ = sess.Close(CloseGoingAway, "server closed")
		return
	}
	opts := s.base
	if s.accept != nil {
		more, err := s.callAccept(sess)
		if err != nil {
			code := uint32(CloseRefused)
			if _, internal := errors.AsType[*internalError](err); internal {
				code = CloseInternal
			}
			_ = sess.Close(code, trimReason(err.Error()))
			return
		}
		opts = append(slices.Clip(opts), more...)
	}
	opts = append(slices.Clip(opts), rpc.WithCodec(s.codec)) // the endpoint's codec wins

	t := newTransport(sess, s.codec)
	p, err := rpc.NewPeer(t, opts...)
	if err != nil {
		// A bad option from Accept (the others were checked by
		// NewServer): tell the client, and whoever reads the close
		// reason, why.
		t.cancel()
		_ = sess.Close(CloseInternal, trimReason(err.Error()))
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		t.closeWith(CloseGoingAway, "server closed")
		_ = p.Close()
		t.finish()
		return
	}
	s.sessions[t] = p
	s.running.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, t)
		s.mu.Unlock()
		s.running.Done()
	}()

	if s.peers != nil {
		if _, err := s.peers.Add(sess.ID(), p); err != nil {
			t.closeWith(CloseInternal, "cannot join the set of peers: "+err.Error())
			_ = p.Close()
			t.finish()
			return
		}
	}
	if s.onConnect != nil {
		// On a goroutine of its own: this one is the session's read loop,
		// which must run for the Peer to serve while the hook does.
		s.running.Add(1)
		go func() {
			defer s.running.Done()
			s.callOnConnect(t, p, sess)
		}()
	}
	t.run()
	t.finish()
}

// internalError marks a failure of the server's own setup (a panic in a
// hook), as opposed to a refusal by Accept.
type internalError struct{ msg string }

func (e *internalError) Error() string { return e.msg }

// callAccept runs Accept; a panic there refuses the session instead of
// killing the process (the hook runs on sockjs-go's goroutine, out of
// net/http's reach).
func (s *Server) callAccept(sess Session) (opts []rpc.Option, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("sockjs: Accept panicked", "session", sess.ID(), "panic", v, "stack", string(debug.Stack()))
			opts, err = nil, &internalError{"internal error"}
		}
	}()
	return s.accept(sess)
}

// callOnConnect runs OnConnect; a panic there closes the session with
// CloseInternal instead of killing the process.
func (s *Server) callOnConnect(t *transport, p *rpc.Peer, sess Session) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("sockjs: OnConnect panicked", "session", sess.ID(), "panic", v, "stack", string(debug.Stack()))
			t.closeWith(CloseInternal, "internal error")
			_ = p.Close()
		}
	}()
	s.onConnect(p, sess)
}

// Close ends every session of this Server with [CloseGoingAway] and makes
// it refuse new ones, then waits for the session handlers and OnConnect
// hooks to return. It does not close the http.Server or the PeerSet.
// Close is idempotent; it returns nil.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	live := make(map[*transport]*rpc.Peer, len(s.sessions))
	for t, p := range s.sessions {
		live[t] = p
	}
	s.mu.Unlock()
	for t, p := range live {
		t.closeWith(CloseGoingAway, "server closed")
		_ = p.Close()
	}
	s.running.Wait()
	return nil
}

// CheckOrigin reports whether r may open or use a session: true when r
// has no Origin header, when the Origin's host is r's Host, or when the
// Origin matches [ServerOptions.AllowedOrigins]. Its signature fits both
// Options.CheckOrigin and the websocket upgrader's CheckOrigin.
func (s *Server) CheckOrigin(r *http.Request) bool {
	_, ok := s.origins.Allowed(r)
	return ok
}

// trimReason cuts a close reason to what a WebSocket close frame holds,
// at a character boundary.
func trimReason(reason string) string {
	if len(reason) <= maxReason {
		return reason
	}
	cut := maxReason
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}
