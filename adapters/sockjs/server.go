package sockjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"unicode/utf8"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// Close codes this package sends when it ends a session. The client sees
// them as the code of its close event (sockjs-client) or of the WebSocket
// close frame (raw websocket endpoint); the reason goes with them.
const (
	// CloseNormal: the server-side Peer was closed.
	CloseNormal = 1000
	// CloseGoingAway: [Server.Close] ended the session.
	CloseGoingAway = 1001
	// CloseRefused: [Config.OnConnect] returned an error; the reason is
	// the error's text.
	CloseRefused = 4001
	// CloseForbidden: the request that opened the session came from an
	// origin that is not allowed.
	CloseForbidden = 4003
	// CloseInternal: the session could not be set up (the Peer could not
	// join [Config.Peers], OnConnect panicked).
	CloseInternal = 4011
)

// maxReason is the longest close reason sent, in bytes: a WebSocket close
// frame holds 125 bytes, two of them the code.
const maxReason = 123

// Config configures a [Server]. The zero value serves JSON with the
// Peer's defaults and no handler.
type Config struct {
	// Codec is the codec of every session of this endpoint; nil means
	// JSON (codec/json). A codec whose Binary method is true is carried as
	// base64 text (see the package documentation). An rpc.WithCodec in
	// PeerOptions overrides it.
	Codec codec.Codec

	// PeerOptions are given to rpc.NewPeer for every session, after the
	// codec; typically rpc.WithHandler and limits. They are checked by
	// [NewServer].
	PeerOptions []rpc.Option

	// OnConnect, if not nil, is called for each new session once its Peer
	// exists and before any message from the client is read. s.Request()
	// is the HTTP request that opened the session (its context ends when
	// that request does: at once for the polling transports) and s.ID()
	// the session id ("" on the raw websocket endpoint). It may keep p,
	// send notifications on it, and start goroutines that call it; a call
	// made and awaited inside OnConnect itself cannot be answered until
	// OnConnect returns, because the answer is not read before then.
	// Returning an error closes the session with [CloseRefused] and the
	// error's text as the reason (clients see it), and p ends.
	OnConnect func(p *rpc.Peer, s sockjsgo.Session) error

	// Peers, if not nil, receives every Peer that OnConnect accepted,
	// under its session id, or under an id the set makes up when the
	// session has none (raw websocket endpoint). A Peer leaves the set
	// when its session ends.
	Peers *rpc.PeerSet

	// AllowedOrigins lists the origins ("https://app.example.com": scheme,
	// host and port as browsers send them in the Origin header) allowed
	// besides the server's own; "*" allows every origin. See
	// [Server.CheckOrigin].
	AllowedOrigins []string

	// Logger, if not nil, is where the Server reports a panic in
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
	codec     codec.Codec // what the Peers actually use
	opts      []rpc.Option
	onConnect func(*rpc.Peer, sockjsgo.Session) error
	peers     *rpc.PeerSet
	origins   originList
	readLimit int64
	log       *slog.Logger

	mu       sync.Mutex
	closed   bool
	sessions map[*transport]*rpc.Peer
	running  sync.WaitGroup // session handlers still running
}

// NewServer checks cfg (nil means the zero Config) and returns a Server.
// The Config is copied; later changes to it have no effect. The Peer
// options are tried here, so that a bad one is reported now rather than
// on every session.
func NewServer(cfg *Config) (*Server, error) {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Codec == nil {
		c.Codec = json.Codec{}
	}
	if c.ReadLimit < 0 {
		return nil, fmt.Errorf("sockjs: NewServer: negative ReadLimit %d", c.ReadLimit)
	}
	origins, err := newOriginList(c.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	opts := append([]rpc.Option{rpc.WithCodec(c.Codec)}, c.PeerOptions...)

	// A Peer over a transport that goes nowhere checks the options and
	// tells the codec and message size the sessions will have.
	var probe probeTransport
	p, err := rpc.NewPeer(&probe, opts...)
	if err != nil {
		return nil, fmt.Errorf("sockjs: NewServer: %w", err)
	}
	maxMessage := probe.in.MaxMessageSize()
	peerCodec := p.Codec()
	_ = p.Close()

	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ReadLimit == 0 {
		c.ReadLimit = 4 * int64(maxMessage)
	}
	return &Server{
		codec:     peerCodec,
		opts:      opts,
		onConnect: c.OnConnect,
		peers:     c.Peers,
		origins:   origins,
		readLimit: c.ReadLimit,
		log:       c.Logger,
		sessions:  make(map[*transport]*rpc.Peer),
	}, nil
}

// Codec returns the codec the Server's Peers use.
func (s *Server) Codec() codec.Codec { return s.codec }

// HandleSession serves one SockJS session: pass it to sockjs.NewHandler.
// It returns when the session has ended.
func (s *Server) HandleSession(sess sockjsgo.Session) {
	if !s.CheckOrigin(sess.Request()) {
		_ = sess.Close(CloseForbidden, "origin not allowed")
		return
	}
	t := newTransport(sess, s.codec)
	p, err := rpc.NewPeer(t, s.opts...)
	if err != nil { // the options were checked by NewServer: not expected
		_ = sess.Close(CloseInternal, "internal error")
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

	if err := s.connect(p, sess); err != nil {
		var code uint32 = CloseRefused
		var internal *internalError
		if errors.As(err, &internal) {
			code = CloseInternal
		}
		t.closeWith(code, err.Error())
		_ = p.Close()
		t.finish()
		return
	}
	t.run()
	t.finish()
}

// internalError marks a failure of the server's own setup, as opposed to
// a refusal by OnConnect.
type internalError struct{ msg string }

func (e *internalError) Error() string { return e.msg }

// connect runs OnConnect and joins the Peer to the set.
func (s *Server) connect(p *rpc.Peer, sess sockjsgo.Session) error {
	if s.onConnect != nil {
		if err := s.callOnConnect(p, sess); err != nil {
			return err
		}
	}
	if s.peers != nil {
		if _, err := s.peers.Add(sess.ID(), p); err != nil {
			return &internalError{"cannot join the set of peers: " + err.Error()}
		}
	}
	return nil
}

// callOnConnect runs the hook; a panic there refuses the session instead
// of killing the process (the hook runs on sockjs-go's goroutine, out of
// net/http's reach).
func (s *Server) callOnConnect(p *rpc.Peer, sess sockjsgo.Session) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("sockjs: OnConnect panicked", "session", sess.ID(), "panic", v, "stack", string(debug.Stack()))
			err = &internalError{"internal error"}
		}
	}()
	return s.onConnect(p, sess)
}

// Close ends every session of this Server with [CloseGoingAway] and makes
// it refuse new ones, then waits for the session handlers to return
// (including OnConnect hooks still running). It does not close the
// http.Server or the PeerSet. Close is idempotent; it returns nil.
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
// Origin is in [Config.AllowedOrigins]. Its signature fits both
// sockjs.Options.CheckOrigin and the websocket upgrader's CheckOrigin.
func (s *Server) CheckOrigin(r *http.Request) bool {
	return s.origins.allowed(r)
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

// probeTransport goes nowhere; NewServer uses it to try the Peer options.
type probeTransport struct {
	in   rpc.Inbound
	once sync.Once
}

func (t *probeTransport) Start(in rpc.Inbound) { t.in = in }

func (t *probeTransport) Send(_ context.Context, _ []byte) error { return net.ErrClosed }

func (t *probeTransport) Close() error {
	t.once.Do(func() { t.in.OnClose(net.ErrClosed) })
	return nil
}
