package websocket

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/internal/origin"
	"github.com/parleyrpc/parley/rpc"
)

// ServerOptions configures a [Server]. The zero value serves JSON and CBOR
// with the default settings and answers every call "method not found".
type ServerOptions struct {
	// Handler serves the calls and notifications of every client; usually
	// an [*rpc.Router]. It is the same for all connections; for one per
	// connection, return rpc.WithHandler from Accept.
	Handler rpc.Handler

	// PeerOptions apply to every connection's peer, after Handler. Later
	// options override earlier ones. The codec is always the negotiated
	// one: an rpc.WithCodec here has no effect.
	PeerOptions []rpc.Option

	// Accept, if set, is called for each handshake that passed the origin
	// and subprotocol checks, before the upgrade: authenticate there. The
	// options it returns apply after PeerOptions. An error refuses the
	// handshake: with the status and message of an [*HTTPError], or with
	// 403 Forbidden and the error's text.
	Accept func(r *http.Request) ([]rpc.Option, error)

	// OnConnect, if set, is called with each new peer and the request that
	// opened the connection, after the peer has joined Peers. The peer is
	// already serving: calls from the client may be handled while OnConnect
	// runs, and OnConnect may call the client.
	OnConnect func(p *rpc.Peer, r *http.Request)

	// Peers, if set, receives each new peer under a generated id; the peer
	// leaves it when it ends. To choose the id, leave Peers nil and call
	// Add from OnConnect.
	Peers *rpc.PeerSet

	// AllowedOrigins lists the browser origins allowed besides the
	// server's own. A handshake with no Origin header (not from a browser)
	// is always allowed; one from the same host as the request is too;
	// others must match an entry, or get 403 Forbidden. An entry with a
	// scheme ("https://app.example.com") is matched against the whole
	// origin, one without ("*.example.com") against its host[:port]; both
	// are path.Match patterns, case-insensitive, and "*" allows any origin.
	AllowedOrigins []string

	// Codecs are the codecs offered for negotiation, by subprotocol name
	// ([Subprotocol]); nil means JSON and CBOR. A client that offers no
	// subprotocol gets the codec named "json"; without one it is refused.
	Codecs []codec.Codec

	// PingInterval is how often each connection is pinged; the link is
	// dropped with [ErrKeepaliveTimeout] when nothing has been read from it
	// for two intervals. Zero means [DefaultPingInterval]; negative, no
	// pings.
	PingInterval time.Duration

	// WriteTimeout bounds each write; a client that stops reading is
	// dropped with [ErrWriteTimeout] once a write makes no progress for
	// this long (or up to a tenth longer: the connection's deadline is
	// moved in steps, not for every message). Zero means
	// [DefaultWriteTimeout]; negative, no limit.
	WriteTimeout time.Duration
}

// Server is an http.Handler that upgrades each request to a WebSocket
// connection and serves it with a new [rpc.Peer]. Create one with
// [NewServer]; it is safe for concurrent use.
type Server struct {
	accept    func(r *http.Request) ([]rpc.Option, error)
	onConnect func(p *rpc.Peer, r *http.Request)
	peers     *rpc.PeerSet
	origins   origin.Policy
	codecs    *codecSet
	link      link
	base      []rpc.Option
	upgrader  websocket.Upgrader

	mu     sync.Mutex
	closed bool
	conns  map[*conn]struct{}
}

var _ http.Handler = (*Server)(nil)

// writeBufs is shared by the servers' and clients' connections: a write
// buffer is held only while a message is written, so idle connections
// hold none.
var writeBufs = new(sync.Pool)

// NewServer checks the options and returns a server. It keeps a copy of
// opts (nil means all defaults) and never modifies the caller's.
func NewServer(opts *ServerOptions) (*Server, error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	codecs, err := newCodecSet(o.Codecs)
	if err != nil {
		return nil, err
	}
	origins, err := origin.New("websocket: AllowedOrigins", o.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	var base []rpc.Option
	if o.Handler != nil {
		base = append(base, rpc.WithHandler(o.Handler))
	}
	base = append(base, o.PeerOptions...)
	if _, err := rpc.CheckOptions(base...); err != nil {
		return nil, fmt.Errorf("websocket: PeerOptions: %w", err)
	}
	s := &Server{
		accept:    o.Accept,
		onConnect: o.OnConnect,
		peers:     o.Peers,
		origins:   origins,
		codecs:    codecs,
		link:      linkSettings(o.PingInterval, o.WriteTimeout),
		base:      slices.Clip(base),
		conns:     make(map[*conn]struct{}),
	}
	s.upgrader = websocket.Upgrader{
		// A read buffer of gorilla's own, over the netConn, rather than
		// the hijacked HTTP reader: reads must go through the netConn.
		ReadBufferSize:   4096,
		HandshakeTimeout: s.link.writeTimeout,
		WriteBufferPool:  writeBufs,
		// The origin was checked before the upgrade, with a clearer answer.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	if s.upgrader.HandshakeTimeout < 0 {
		s.upgrader.HandshakeTimeout = 0
	}
	return s, nil
}

// ServeHTTP checks the handshake, upgrades it and serves the connection.
// It answers 400 to a request that is not a WebSocket handshake or offers
// only unsupported subprotocols, 403 to a refused origin, the status
// Accept chose to a refused client, and 503 once the server is closed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "websocket: not a WebSocket handshake: this endpoint serves JSON-RPC 2.0 over WebSocket", http.StatusBadRequest)
		return
	}
	if s.isClosed() {
		http.Error(w, "websocket: server closed", http.StatusServiceUnavailable)
		return
	}
	if o, ok := s.origins.Allowed(r); !ok {
		http.Error(w, fmt.Sprintf("websocket: origin %q not allowed", o), http.StatusForbidden)
		return
	}
	c, proto, refusal := s.codecs.pick(websocket.Subprotocols(r))
	if c == nil {
		http.Error(w, refusal, http.StatusBadRequest)
		return
	}
	opts := s.base
	if s.accept != nil {
		more, err := s.accept(r)
		if err != nil {
			var he *HTTPError
			if errors.As(err, &he) && he.Status >= 400 && he.Status <= 599 {
				http.Error(w, he.Message, he.Status)
			} else {
				http.Error(w, err.Error(), http.StatusForbidden)
			}
			return
		}
		opts = append(slices.Clip(opts), more...)
	}
	opts = append(slices.Clip(opts), rpc.WithCodec(c)) // the negotiated codec wins

	var header http.Header
	if proto != "" {
		header = http.Header{"Sec-Websocket-Protocol": {proto}}
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hj, r, header)
	if err != nil {
		return // gorilla has answered the client
	}
	t := newConn(ws, hj.nc, c, s.link)
	if !s.register(t) {
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closed"), time.Now().Add(closeFrameTimeout))
		_ = ws.Close()
		return
	}
	p, err := rpc.NewPeer(t, opts...)
	if err != nil {
		// A bad option from Accept: tell the client, and whoever reads
		// the close reason, why.
		reason := err.Error()
		if len(reason) > 120 { // a close frame's reason fits in 123 bytes
			reason = strings.ToValidUTF8(reason[:120], "")
		}
		_ = ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseInternalServerErr, reason), time.Now().Add(closeFrameTimeout))
		_ = t.Close()
		s.unregister(t)
		return
	}
	s.mu.Lock()
	t.peer = p
	s.mu.Unlock()
	if s.peers != nil {
		_, _ = s.peers.Add("", p) // fails only if p has ended already
	}
	if s.onConnect != nil {
		s.onConnect(p, r)
	}
}

// register records a new connection, unless the server is closed.
func (s *Server) register(t *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[t] = struct{}{}
	t.onEnd = func() { s.unregister(t) }
	return true
}

func (s *Server) unregister(t *conn) {
	s.mu.Lock()
	delete(s.conns, t)
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close refuses new connections (503) and closes every open one, sending
// each client a close frame. It returns once every connection's peer has
// ended. It does not stop the http.Server the handler is mounted on:
// connections taken over by the WebSocket protocol are not the HTTP
// server's to close. Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*conn, 0, len(s.conns))
	peers := make([]*rpc.Peer, 0, len(s.conns))
	for t := range s.conns {
		conns = append(conns, t)
		peers = append(peers, t.peer)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for i, t := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := peers[i]; p != nil {
				_ = p.Close()
			} else {
				_ = t.Close()
			}
		}()
	}
	wg.Wait()
	return nil
}

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
