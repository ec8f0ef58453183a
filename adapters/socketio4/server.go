package socketio4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/origin"
	"github.com/parleyrpc/parley/rpc"
)

// Defaults of [ServerOptions].
const (
	DefaultNamespace  = "/"
	DefaultEvent      = "rpc"
	DefaultAckTimeout = 30 * time.Second
)

// Handshake query parameters (or members of the client's auth object) by
// which a client chooses how it talks; see the package documentation.
const (
	// QueryCodec names the codec of the JSON-RPC messages on the event:
	// "json" (the default) or "cbor".
	QueryCodec = "codec"
	// QueryCalls says how the server's calls and notifications reach the
	// client: "events" (the default: each is a socket.io event named for
	// its method, a call with an acknowledgement) or "jsonrpc" (JSON-RPC
	// 2.0 messages on the event).
	QueryCalls = "calls"
)

// The values of [QueryCalls].
const (
	CallsEvents  = "events"
	CallsJSONRPC = "jsonrpc"
)

// ErrServerClosed is why a connection is refused after [Server.Close].
var ErrServerClosed = errors.New("socketio4: server closed")

// ServerOptions configures [Attach]. The zero value serves JSON and CBOR
// on the event "rpc" of namespace "/", serves no event as a call and
// answers every JSON-RPC call "method not found".
type ServerOptions struct {
	// Namespace is the socket.io namespace to serve ("/" when empty).
	Namespace string

	// Event is the event that carries JSON-RPC 2.0 messages, both ways
	// ("rpc" when empty). It must not be a name socket.io reserves.
	Event string

	// Handler serves the calls and notifications of every client, those
	// sent as JSON-RPC messages on Event and those sent as socket.io
	// events (see Methods); usually an [*rpc.Router]. It is the same for
	// all connections; for one per connection, return rpc.WithHandler
	// from Accept.
	Handler rpc.Handler

	// PeerOptions apply to every connection's peer, after Handler. Later
	// options override earlier ones. The codec is always the one the
	// client chose with [QueryCodec]: an rpc.WithCodec here has no effect.
	PeerOptions []rpc.Option

	// Codecs are the codecs clients may choose with [QueryCodec]; nil
	// means JSON and CBOR. A client that names none gets the codec named
	// "json", and is refused if there is none.
	Codecs []codec.Codec

	// Methods decides which socket.io events, other than Event, are served
	// as calls (with an acknowledgement) or notifications (without one).
	// Nil means: the methods registered on Handler when it is an
	// [*rpc.Router], looked up at each event, and none otherwise. Events
	// it does not claim are the application's own and are left alone.
	Methods func(event string) bool

	// Accept, if set, is called for each socket at its handshake, from a
	// namespace middleware (the server's Use), after the origin check and
	// before the peer exists: authenticate there (s.Handshake().Auth,
	// s.Request()). The options it returns apply after PeerOptions;
	// rpc.WithValue carries the client's identity to every handler. An
	// error refuses the socket: the client gets connect_error with the
	// error's text.
	Accept func(s *socket.Socket) ([]rpc.Option, error)

	// OnConnect, if set, is called with each new peer and its socket,
	// after the peer has joined Peers. The peer is already serving. It
	// runs on a goroutine of its own, not on the socket's event loop, so
	// it may call the client and wait for the answer. It cannot refuse
	// the client: that is Accept's job.
	OnConnect func(p *rpc.Peer, s *socket.Socket)

	// Peers, if set, receives each new peer under its socket's id
	// (s.Id()); the peer leaves it when it ends.
	Peers *rpc.PeerSet

	// AllowedOrigins lists the browser origins allowed besides the
	// server's own (see internal/origin: a handshake without an Origin
	// header passes; patterns with a scheme match the whole origin, others
	// its host[:port]; "*" allows any). A socket from another origin is
	// refused with connect_error.
	AllowedOrigins []string

	// AckTimeout bounds the wait for each acknowledgement the server asks
	// of a client (a call sent as an event); past it the call fails with
	// rpc.CodeDeadlineExceeded. Zero means [DefaultAckTimeout]. A call
	// whose context ends sooner ends then.
	AckTimeout time.Duration

	// Logger receives the adapter's reports (default slog.Default()).
	Logger *slog.Logger
}

// Server serves JSON-RPC 2.0 peers on one namespace of a socket.io server
// of github.com/zishang520/socket.io/servers/socket/v3. Create it with
// [Attach]. Its methods are safe for concurrent use.
type Server struct {
	io         *socket.Server
	nsp        socket.Namespace
	event      string
	codecs     map[string]codec.Codec
	names      []string
	base       []rpc.Option
	methods    func(string) bool
	accept     func(*socket.Socket) ([]rpc.Option, error)
	onConnect  func(*rpc.Peer, *socket.Socket)
	peers      *rpc.PeerSet
	origins    origin.Policy
	ackTimeout time.Duration
	sendQueue  int
	log        *slog.Logger

	limitOnce sync.Once // installs the engine's body limit

	mu       sync.Mutex
	closed   bool
	accepted map[*socket.Socket]*admission // sockets through the handshake, until they connect
	conns    map[*socket.Socket]*transport
	wg       sync.WaitGroup // OnConnect goroutines
}

// reservedEvents are the event names socket.io (server or client 4.x)
// keeps for itself.
var reservedEvents = []string{
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
}

// Attach serves JSON-RPC 2.0, and socket.io events as calls, on a
// namespace of io, and returns the adapter. It adds a middleware to the
// namespace (the handshake: origin and Accept) and a "connection"
// listener; on each socket it adds a catch-all listener (OnAny) and a
// "disconnect" listener. The application's own listeners, middlewares
// and events are left alone.
//
// opts (nil means all defaults) is copied and never modified; the peer
// options are checked here.
func Attach(io *socket.Server, opts *ServerOptions) (*Server, error) {
	if io == nil {
		return nil, errors.New("socketio4: Attach: nil server")
	}
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if !strings.HasPrefix(o.Namespace, "/") {
		return nil, fmt.Errorf("socketio4: Attach: namespace %q must begin with /", o.Namespace)
	}
	if o.Event == "" {
		o.Event = DefaultEvent
	}
	if slices.Contains(reservedEvents, o.Event) {
		return nil, fmt.Errorf("socketio4: Attach: %q is an event name socket.io reserves", o.Event)
	}
	if o.AckTimeout == 0 {
		o.AckTimeout = DefaultAckTimeout
	}
	if o.AckTimeout < 0 {
		return nil, fmt.Errorf("socketio4: Attach: negative AckTimeout %v", o.AckTimeout)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	policy, err := origin.New("socketio4: Attach: AllowedOrigins", o.AllowedOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{
		io:         io,
		event:      o.Event,
		codecs:     make(map[string]codec.Codec),
		methods:    o.Methods,
		accept:     o.Accept,
		onConnect:  o.OnConnect,
		peers:      o.Peers,
		origins:    policy,
		ackTimeout: o.AckTimeout,
		log:        o.Logger,
		accepted:   make(map[*socket.Socket]*admission),
		conns:      make(map[*socket.Socket]*transport),
	}
	cs := o.Codecs
	if len(cs) == 0 {
		cs = []codec.Codec{json.Codec{}, cbor.Codec{}}
	}
	for _, c := range cs {
		if c == nil {
			return nil, errors.New("socketio4: Attach: nil codec in Codecs")
		}
		if _, dup := s.codecs[c.Name()]; dup || c.Name() == "" {
			return nil, fmt.Errorf("socketio4: Attach: codec name %q is empty or given twice", c.Name())
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
		return nil, fmt.Errorf("socketio4: Attach: PeerOptions: %w", err)
	}
	s.sendQueue = settings.SendQueue
	if s.methods == nil {
		if r, ok := o.Handler.(*rpc.Router); ok {
			s.methods = r.Has
		} else {
			s.methods = func(string) bool { return false }
		}
	}
	s.nsp = io.Of(o.Namespace, nil)
	s.nsp.Use(s.handshake)
	if err := s.nsp.On("connection", s.connection); err != nil {
		return nil, fmt.Errorf("socketio4: Attach: %w", err)
	}
	s.installLimit()
	return s, nil
}

// Namespace returns the namespace the server serves.
func (s *Server) Namespace() string { return s.nsp.Name() }

// Event returns the event that carries JSON-RPC messages.
func (s *Server) Event() string { return s.event }

// PeerOf returns the peer of a socket of the namespace, for use in the
// application's own listeners.
func (s *Server) PeerOf(sock *socket.Socket) (*rpc.Peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.conns[sock]
	if t == nil || t.peer == nil {
		return nil, false
	}
	return t.peer, true
}

// Close refuses new sockets, disconnects every socket of the namespace
// that has a peer (the socket only: other namespaces of the same client
// connection stay up) and waits for their peers to end and for the
// OnConnect calls to return. It does not close the socket.io server.
// Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	type conn struct {
		t *transport
		p *rpc.Peer
	}
	cs := make([]conn, 0, len(s.conns))
	for _, t := range s.conns {
		cs = append(cs, conn{t, t.peer})
	}
	clear(s.accepted)
	s.mu.Unlock()
	for _, c := range cs {
		if c.p != nil {
			_ = c.p.Close() // returns once the transport has reported its end
		} else {
			_ = c.t.Close()
		}
	}
	s.wg.Wait()
	return nil
}

// forgetAdmitted is how long a socket that passed the handshake, and
// whose connection has closed, is kept for connection to take.
const forgetAdmitted = time.Minute

// admission is a socket that passed the handshake: its peer options,
// and its transport once connection has made it. Its disconnect
// listeners go on in the handshake, before the socket can connect, so
// that a client that leaves while it is being connected is seen: the
// library reports the end on the engine's goroutine, at any moment,
// while connection runs on the socket's event loop. Guarded by the
// Server's mu.
type admission struct {
	at   time.Time // when it passed
	opts []rpc.Option
	t    *transport
	left error // the client left before the transport existed
}

// onDisconnecting hands "disconnecting" to the transport, or, before
// there is one, records that the client left; either way, the packets it
// sent before leaving still go to the peer (see transport.onDisconnecting).
func (s *Server) onDisconnecting(sock *socket.Socket, a *admission, args ...any) {
	s.mu.Lock()
	t := a.t
	if t == nil {
		reason, _ := firstArg(args).(string)
		a.left = fmt.Errorf("socketio4: disconnected (%s): %w", reason, io.EOF)
	}
	s.mu.Unlock()
	if t != nil {
		t.onDisconnecting(args...)
		return
	}
	// connection runs before this marker (it is queued already) and sees
	// a.left; the marker follows the packets the client sent before.
	sock.Enqueue(func() {
		s.mu.Lock()
		t := a.t
		s.mu.Unlock()
		if t != nil {
			t.drained()
		}
	})
}

// onDisconnect hands "disconnect" to the transport, if there is one.
func (s *Server) onDisconnect(a *admission, args ...any) {
	s.mu.Lock()
	t := a.t
	s.mu.Unlock()
	if t != nil {
		t.onDisconnect(args...)
	}
}

// handshake is the namespace middleware: origin, codec and Accept.
func (s *Server) handshake(sock *socket.Socket, next func(*socket.ExtendedError)) {
	s.installLimit() // the engine exists by now
	opts, err := s.admit(sock)
	if err != nil {
		s.log.Info("socketio4: socket refused", "namespace", s.nsp.Name(), "socket", sock.Id(), "err", err)
		next(socket.NewExtendedError(err.Error(), nil))
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		next(socket.NewExtendedError(ErrServerClosed.Error(), nil))
		return
	}
	// A socket that passed but whose client left before connecting never
	// reaches connection: forget those here rather than keep them. Not at
	// once: a socket whose client connected and left at once is still
	// about to reach connection (its task is queued), with what the
	// client sent before leaving behind it.
	for k, a := range s.accepted {
		if k.Conn().ReadyState() == "closed" && time.Since(a.at) > forgetAdmitted {
			delete(s.accepted, k)
		}
	}
	a := &admission{at: time.Now(), opts: opts}
	s.accepted[sock] = a
	s.mu.Unlock()
	_ = sock.On("disconnecting", func(args ...any) { s.onDisconnecting(sock, a, args...) })
	_ = sock.On("disconnect", func(args ...any) { s.onDisconnect(a, args...) })
	next(nil)
}

// admit checks a socket's handshake and returns its peer options.
func (s *Server) admit(sock *socket.Socket) (opts []rpc.Option, err error) {
	if r := sock.Request(); r != nil {
		if o, ok := s.origins.Allowed(r.Request()); !ok {
			return nil, fmt.Errorf("socketio4: origin %q not allowed", o)
		}
	}
	c, err := s.pickCodec(sock)
	if err != nil {
		return nil, err
	}
	if _, err := callsOf(sock); err != nil {
		return nil, err
	}
	opts = s.base
	if s.accept != nil {
		more, err := s.callAccept(sock)
		if err != nil {
			return nil, err
		}
		opts = append(slices.Clip(opts), more...)
	}
	return append(slices.Clip(opts), rpc.WithCodec(c)), nil // the client's choice wins
}

func (s *Server) callAccept(sock *socket.Socket) (opts []rpc.Option, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("socketio4: Accept panicked", "panic", v)
			opts, err = nil, fmt.Errorf("socketio4: Accept panicked: %v", v)
		}
	}()
	return s.accept(sock)
}

// connection makes the peer of a socket that passed the handshake. It
// runs on the socket's event loop.
func (s *Server) connection(args ...any) {
	sock, _ := firstArg(args).(*socket.Socket)
	if sock == nil {
		return
	}
	s.mu.Lock()
	a, ok := s.accepted[sock]
	delete(s.accepted, sock)
	closed := s.closed
	s.mu.Unlock()
	if !ok || closed {
		// Not through our middleware (a recovered session skips
		// middlewares): refuse rather than serve unauthenticated.
		s.log.Info("socketio4: socket connected without the handshake; disconnecting", "socket", sock.Id())
		sock.Disconnect(false)
		return
	}
	c, _ := s.pickCodec(sock) // checked at the handshake
	calls, _ := callsOf(sock)
	t := newTransport(s, sock, c, calls == CallsEvents)
	s.mu.Lock()
	a.t = t
	left := a.left
	if left == nil {
		s.conns[sock] = t // forgotten on "disconnect"
	}
	s.mu.Unlock()
	if left != nil {
		// The client left while this ran: what it sent before is queued
		// behind this task, and the marker onDisconnecting queued after
		// it reports the end once the peer has had it all.
		t.mu.Lock()
		t.draining = true
		t.mu.Unlock()
		t.end(left)
	}
	p, err := rpc.NewPeer(t, a.opts...)
	if err != nil {
		s.log.Error("socketio4: making the peer", "err", err)
		s.forget(t)
		sock.Disconnect(false)
		return
	}
	s.mu.Lock()
	t.peer = p
	closed = s.closed
	s.mu.Unlock()
	sock.OnAny(t.onAny)
	if left != nil {
		return
	}
	if closed {
		_ = p.Close() // Close ran without seeing this peer
		return
	}
	if s.peers != nil {
		if _, err := s.peers.Add(string(sock.Id()), p); err != nil {
			s.log.Error("socketio4: adding the peer", "socket", sock.Id(), "err", err)
			_ = p.Close()
			return
		}
	}
	if s.onConnect != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				if v := recover(); v != nil {
					s.log.Error("socketio4: OnConnect panicked", "panic", v)
				}
			}()
			s.onConnect(p, sock)
		}()
	}
}

func (s *Server) forget(t *transport) {
	s.mu.Lock()
	if s.conns[t.sock] == t {
		delete(s.conns, t.sock)
	}
	s.mu.Unlock()
}

// pickCodec returns the codec the socket's handshake names.
func (s *Server) pickCodec(sock *socket.Socket) (codec.Codec, error) {
	name := handshakeParam(sock, QueryCodec)
	if name == "" {
		name = "json"
	}
	if c, ok := s.codecs[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("socketio4: codec %q is not served; this server serves %s", name, strings.Join(s.names, ", "))
}

// callsOf returns how the server's calls reach the socket's client.
func callsOf(sock *socket.Socket) (string, error) {
	switch v := handshakeParam(sock, QueryCalls); v {
	case "", CallsEvents:
		return CallsEvents, nil
	case CallsJSONRPC:
		return CallsJSONRPC, nil
	default:
		return "", fmt.Errorf("socketio4: %s=%q: want %q or %q", QueryCalls, v, CallsEvents, CallsJSONRPC)
	}
}

// handshakeParam reads a parameter from the handshake's auth object, or
// else from its query.
func handshakeParam(sock *socket.Socket, name string) string {
	h := sock.Handshake()
	if h == nil {
		return ""
	}
	if v, ok := h.Auth[name].(string); ok {
		return v
	}
	switch v := h.Query[name].(type) {
	case string:
		return v
	case []string:
		if len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// installLimit adds to the Engine.IO server, once it exists, a
// middleware that refuses a polling POST whose body exceeds
// maxHttpBufferSize when it comes without a Content-Length (chunked). The
// engine answers 413 to such a body when its length is declared, but
// reads a chunked one only up to the limit and handles the truncated
// payload as if it were whole: the packets past the cut are lost without
// a word, and the client believes them sent.
func (s *Server) installLimit() {
	eng := s.io.Engine()
	if eng == nil {
		return // not served yet: the first handshake installs it
	}
	s.limitOnce.Do(func() {
		max := s.io.Opts().MaxHttpBufferSize()
		if max <= 0 {
			max = 1e6
		}
		eng.Use(engine.Middleware(func(ctx *types.HttpContext, next func(error)) {
			next(limitBody(ctx, max))
		}))
	})
}

// errBodyTooLarge refuses a chunked POST over the limit; the engine
// answers it with 400.
var errBodyTooLarge = errors.New("socketio4: request body exceeds maxHttpBufferSize")

// limitBody reads a POST body of unknown length up to max bytes and puts
// it back, or refuses it if it is longer.
func limitBody(ctx *types.HttpContext, max int64) error {
	r := ctx.Request()
	if r == nil || r.Method != "POST" || r.ContentLength >= 0 || r.Body == nil {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	_ = r.Body.Close()
	if err != nil {
		return err
	}
	if int64(len(b)) > max {
		return errBodyTooLarge
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return nil
}
