package socketio

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// Defaults of [ServerOptions].
const (
	DefaultNamespace = "/"
	DefaultEvent     = "rpc"
)

// QueryCodec is the query parameter of the handshake URL in which a
// client names its codec ("json" or "cbor"); without it the client gets
// JSON. With socket.io-client 2: io(url, {query: {codec: 'cbor'}}).
const QueryCodec = "codec"

// ErrServerClosed is why a connection is refused after [Server.Close].
var ErrServerClosed = errors.New("socketio: server closed")

// ServerOptions configures [Attach]. The zero value serves JSON and CBOR on the
// event "rpc" of namespace "/" and answers every call "method not found".
type ServerOptions struct {
	// Namespace is the socket.io namespace to serve ("/" when empty).
	// go-socket.io drops every connection unless namespace "/" has a
	// handler, so when Namespace is another one, register something on
	// "/" too (an OnConnect handler that returns nil will do).
	Namespace string

	// Event is the event name that carries the messages, both ways
	// ("rpc" when empty). It must not be one socket.io reserves
	// ("connect", "disconnect", "error", ...).
	Event string

	// Handler serves the calls and notifications of every client;
	// usually an [*rpc.Router]. For one per connection, return
	// rpc.WithHandler from Accept.
	Handler rpc.Handler

	// PeerOptions apply to every connection's peer, after Handler. The
	// codec is always the one the client chose: an rpc.WithCodec here
	// has no effect.
	PeerOptions []rpc.Option

	// Codecs are the codecs clients may choose with the [QueryCodec]
	// parameter; nil means JSON and CBOR. A client that names none gets
	// the codec named "json", and is refused if there is none.
	Codecs []codec.Codec

	// Peers, if not nil, receives each new peer under the connection's
	// id (conn.ID()); the peer leaves it when it ends.
	Peers *rpc.PeerSet

	// Accept, if not nil, is called for each new connection before its
	// peer is made: authenticate there (conn.RemoteHeader(), conn.URL()).
	// The options it returns apply after PeerOptions. An error refuses the
	// connection: the adapter closes it (the whole socket.io connection,
	// every namespace of it).
	Accept func(conn sio.Conn) ([]rpc.Option, error)

	// OnConnect, if not nil, is called with each new peer, after it has
	// joined Peers. It cannot refuse the connection: that is Accept's
	// job. It runs inside go-socket.io's connect handling: the
	// peer can send (messages wait in its queue until the connection is
	// up), but the answer to a call cannot arrive before OnConnect returns,
	// so make calls from a goroutine.
	//
	// SocketOnConnect, Accept and OnConnect must not call conn.Emit: on namespace
	// "/", an emit inside go-socket.io's connect handling deadlocks the
	// connection for good. Send through the peer, or emit from a
	// goroutine.
	OnConnect func(p *rpc.Peer, conn sio.Conn)

	// SocketOnConnect, SocketOnDisconnect and SocketOnError are your own
	// go-socket.io OnConnect, OnDisconnect and OnError handlers for the
	// namespace. go-socket.io keeps one of each per namespace and Attach
	// registers its own, which call these: pass yours here instead of
	// registering them on the server. SocketOnConnect runs first, before
	// Accept; its error refuses the connection. SocketOnDisconnect runs
	// after the connection's peer has been told, for refused connections
	// too. SocketOnError also hears why a connection was refused; its
	// conn is nil when go-socket.io failed to set a connection up on
	// namespace "/".
	SocketOnConnect    func(conn sio.Conn) error
	SocketOnDisconnect func(conn sio.Conn, reason string)
	SocketOnError      func(conn sio.Conn, err error)

	// IdleTimeout, if positive, closes a connection on which no message
	// arrived on the event for that long (cause [ErrIdle]). Answers to
	// the server's calls count. Use it when clients that connect and say
	// nothing should not hold a peer (and go-socket.io's goroutines)
	// forever.
	IdleTimeout time.Duration

	// Logger receives the adapter's reports (default slog.Default()).
	Logger *slog.Logger
}

// Server serves JSON-RPC 2.0 peers over one event of one namespace of a
// go-socket.io server. Create it with [Attach]. Its methods are safe for
// concurrent use.
type Server struct {
	event     string
	ns        string
	codecs    map[string]codec.Codec
	names     []string // codec names, in the order given
	base      []rpc.Option
	accept    func(sio.Conn) ([]rpc.Option, error)
	onPeer    func(*rpc.Peer, sio.Conn)
	onConnect func(sio.Conn) error
	onDisc    func(sio.Conn, string)
	onError   func(sio.Conn, error)
	peers     *rpc.PeerSet
	sendQueue int
	idle      time.Duration
	log       *slog.Logger

	warned atomic.Bool // the "unknown connection" warning was logged

	mu     sync.Mutex
	closed bool
	conns  map[sio.Conn]*transport
}

// reservedEvents are the event names socket.io-client 2 handles itself;
// emitting one from the client never reaches the server.
var reservedEvents = []string{
	"connect", "connect_error", "connect_timeout", "connecting", "disconnect",
	"error", "reconnect", "reconnect_attempt", "reconnect_failed",
	"reconnect_error", "reconnecting", "ping", "pong", "newListener", "removeListener",
}

// Attach serves JSON-RPC 2.0 on srv and returns the adapter. On the
// namespace, it registers exactly four handlers: OnConnect, OnDisconnect,
// OnError and OnEvent for the event; the three first call yours from
// opts. It leaves every other event and namespace alone.
//
// Attach refuses a namespace that already has an OnConnect, OnDisconnect
// or OnError handler or a handler for the event, because go-socket.io
// would replace it without a word; pass yours in opts. Registering one of
// those four on the namespace after Attach replaces the adapter's, and
// the adapter then stops working on that namespace: don't.
//
// Call Attach before serving, like go-socket.io's own On* methods, which
// are not safe to call while connections are served. opts (nil means all
// defaults) is copied; the PeerOptions are tried here.
func Attach(srv *sio.Server, opts *ServerOptions) (*Server, error) {
	if srv == nil {
		return nil, errors.New("socketio: Attach: nil server")
	}
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if !strings.HasPrefix(o.Namespace, "/") {
		return nil, fmt.Errorf("socketio: Attach: namespace %q must begin with /", o.Namespace)
	}
	if o.Event == "" {
		o.Event = DefaultEvent
	}
	if slices.Contains(reservedEvents, o.Event) {
		return nil, fmt.Errorf("socketio: Attach: %q is an event name socket.io reserves", o.Event)
	}
	if o.IdleTimeout < 0 {
		return nil, fmt.Errorf("socketio: Attach: negative IdleTimeout %v", o.IdleTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{
		event:     o.Event,
		ns:        o.Namespace,
		codecs:    make(map[string]codec.Codec),
		accept:    o.Accept,
		onPeer:    o.OnConnect,
		onConnect: o.SocketOnConnect,
		onDisc:    o.SocketOnDisconnect,
		onError:   o.SocketOnError,
		peers:     o.Peers,
		idle:      o.IdleTimeout,
		log:       o.Logger,
		conns:     make(map[sio.Conn]*transport),
	}
	cs := o.Codecs
	if len(cs) == 0 {
		cs = []codec.Codec{json.Codec{}, cbor.Codec{}}
	}
	for _, c := range cs {
		if c == nil {
			return nil, errors.New("socketio: Attach: nil codec in Codecs")
		}
		if _, dup := s.codecs[c.Name()]; dup || c.Name() == "" {
			return nil, fmt.Errorf("socketio: Attach: codec name %q is empty or given twice", c.Name())
		}
		s.codecs[c.Name()] = c
		s.names = append(s.names, c.Name())
	}
	if o.Handler != nil {
		s.base = append(s.base, rpc.WithHandler(o.Handler))
	}
	s.base = slices.Clip(append(s.base, o.PeerOptions...))
	settings, err := rpc.CheckOptions(s.base...)
	if err != nil {
		return nil, fmt.Errorf("socketio: Attach: PeerOptions: %w", err)
	}
	s.sendQueue = settings.SendQueue // the peer's own send queue size
	if taken := registered(srv, o.Namespace, o.Event); len(taken) > 0 {
		return nil, fmt.Errorf("socketio: Attach: namespace %q already has %s; go-socket.io keeps one of each and Attach would replace it: pass yours in ServerOptions instead",
			o.Namespace, strings.Join(taken, ", "))
	}
	srv.OnConnect(s.ns, s.handleConnect)
	srv.OnDisconnect(s.ns, s.handleDisconnect)
	srv.OnError(s.ns, s.handleError)
	srv.OnEvent(s.ns, s.event, s.handleEvent)
	return s, nil
}

// Namespace returns the namespace the server serves.
func (s *Server) Namespace() string { return s.ns }

// Event returns the event name that carries the messages.
func (s *Server) Event() string { return s.event }

// PeerOf returns the peer of a connection of the namespace, for use in
// your own event handlers.
func (s *Server) PeerOf(conn sio.Conn) (*rpc.Peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.conns[conn]
	if t == nil || t.peer == nil {
		return nil, false
	}
	return t.peer, true
}

// Close closes the peer and the socket.io connection of every client of
// the namespace and refuses new ones. It does not close go-socket.io's
// server, whose other namespaces and events keep working, and it cannot
// unregister the adapter's handlers. Close is idempotent.
//
// To shut down without go-socket.io's races: stop the HTTP server first
// (http.Server.Shutdown), then call Close, then go-socket.io's
// Server.Close. A handshake that completes after go-socket.io's Close
// panics the process (send on a closed channel), and one still queued
// when it runs is never served.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ts := make([]*transport, 0, len(s.conns))
	for _, t := range s.conns {
		ts = append(ts, t)
	}
	s.mu.Unlock()
	for _, t := range ts {
		if p := s.peerOf(t); p != nil {
			_ = p.Close()
		} else {
			_ = t.Close() // still connecting: connect sees it ended
		}
	}
	// Closing reports each disconnect, which forgets the transport; this
	// is for the case go-socket.io did not report it.
	s.mu.Lock()
	clear(s.conns)
	s.mu.Unlock()
	return nil
}

func (s *Server) peerOf(t *transport) *rpc.Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.peer
}

// lookup returns the transport of a connection, or nil.
func (s *Server) lookup(conn sio.Conn) *transport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[conn]
}

// forget removes t from the connections once go-socket.io has reported
// the disconnect. An ended transport stays until then, so that events
// still arriving from its connection are told apart from events of a
// connection the adapter never saw.
func (s *Server) forget(t *transport) {
	s.mu.Lock()
	if s.conns[t.conn] == t {
		delete(s.conns, t.conn)
	}
	s.mu.Unlock()
}

// pickCodec returns the codec the connection's handshake URL names.
func (s *Server) pickCodec(conn sio.Conn) (codec.Codec, error) {
	u := conn.URL()
	name := u.Query().Get(QueryCodec)
	if name == "" {
		name = "json"
	}
	if c, ok := s.codecs[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("socketio: codec %q is not served; this server serves %s", name, strings.Join(s.names, ", "))
}
