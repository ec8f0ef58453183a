package stream

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// ServerOptions configure a [Server]. A nil *ServerOptions means all
// defaults: header framing, JSON, every call answered "method not found".
type ServerOptions struct {
	// Framing is how messages are cut out of each connection's stream;
	// the zero value is [Header].
	Framing Framing

	// Codec is the codec of every connection; nil means JSON. [Lines]
	// carries text only: a binary codec (CBOR) needs [Header].
	Codec codec.Codec

	// Handler serves the calls and notifications of every client;
	// usually an [*rpc.Router]. For one per connection, return
	// rpc.WithHandler from Accept.
	Handler rpc.Handler

	// PeerOptions apply to every connection's peer, after Handler. The
	// codec is Codec, applied last: an rpc.WithCodec here has no effect.
	PeerOptions []rpc.Option

	// Accept, if set, is called with each new connection before its peer
	// exists: authenticate there (the remote address, a Unix socket's
	// peer credentials). The options it returns apply after PeerOptions
	// (rpc.WithValue carries who the client is to handlers). An error
	// refuses the connection: it is answered with one -32000 error whose
	// id is null and the error's text, then closed.
	Accept func(conn net.Conn) ([]rpc.Option, error)

	// OnConnect, if set, is called with each new peer and its connection,
	// after the peer has joined Peers. The peer is already serving: calls
	// from the client may be handled while OnConnect runs, and OnConnect
	// may call the client. It runs on the connection's own goroutine
	// (Serve goes on accepting meanwhile).
	OnConnect func(p *rpc.Peer, conn net.Conn)

	// Peers, if set, receives each new peer under a generated id; the peer
	// leaves it when it ends.
	Peers *rpc.PeerSet

	// WriteTimeout bounds each write: a client that stops reading is
	// dropped with [ErrWriteTimeout] once a write has made no progress for
	// this long. Zero means [DefaultWriteTimeout]; negative, no limit.
	WriteTimeout time.Duration
}

// Server serves JSON-RPC over the connections of net.Listeners (TCP, Unix
// sockets, anything that yields net.Conns): a peer per connection. Create
// one with [NewServer]; its methods are safe for concurrent use.
type Server struct {
	link      link
	accept    func(net.Conn) ([]rpc.Option, error)
	onConnect func(*rpc.Peer, net.Conn)
	peers     *rpc.PeerSet

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*Transport]*rpc.Peer // peer nil while Accept runs
	serving   sync.WaitGroup           // ServeConn calls in progress
	ended     sync.WaitGroup           // links not yet reported ended
}

// NewServer checks the options and returns a server. It keeps a copy of
// opts and never modifies the caller's.
func NewServer(opts *ServerOptions) (*Server, error) {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	l, err := checkLink(o.Framing, o.Codec, o.Handler, o.PeerOptions, o.WriteTimeout)
	if err != nil {
		return nil, err
	}
	return &Server{
		link:      l,
		accept:    o.Accept,
		onConnect: o.OnConnect,
		peers:     o.Peers,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*Transport]*rpc.Peer),
	}, nil
}

// ErrServerClosed is returned by [Server.Serve] and [Server.ServeConn]
// once the server is closed.
var ErrServerClosed = fmt.Errorf("stream: server closed: %w", net.ErrClosed)

// Serve accepts connections on ln and serves each with a new peer, until
// ln fails or the server is closed; it closes ln before it returns. After
// Close it returns [ErrServerClosed]. Temporary accept errors (too many
// open files) are retried after a pause, as net/http does.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()
	var pause time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			_, _ = s.serveConn(conn)
		}()
	}
}

// isTemporary reports an accept error worth retrying: the process or the
// system is out of file descriptors, for now.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// ServeConn serves one connection accepted elsewhere, as Serve serves
// each of its own: Accept, a new peer, Peers, OnConnect. It returns the
// peer once OnConnect has returned, or why the connection was refused
// (it is then closed).
func (s *Server) ServeConn(conn net.Conn) (*rpc.Peer, error) {
	if conn == nil {
		return nil, errors.New("stream: ServeConn: nil connection")
	}
	s.serving.Add(1)
	defer s.serving.Done()
	return s.serveConn(conn)
}

func (s *Server) serveConn(conn net.Conn) (*rpc.Peer, error) {
	t := newTransport(conn, s.link.framing, s.link.codec, s.link.timeout)
	if !s.register(t) {
		_ = conn.Close()
		return nil, ErrServerClosed
	}
	opts := s.link.opts
	if s.accept != nil {
		more, err := s.accept(conn)
		if err != nil {
			t.answerError(rpc.CodeServerError, "connection refused: "+err.Error())
			_ = t.Close()
			s.unregister(t)
			return nil, err
		}
		// The server's codec stays last: it wins.
		opts = append(append(opts[:len(opts)-1:len(opts)-1], more...), opts[len(opts)-1])
	}
	s.ended.Add(1)
	t.onEnd = func() {
		s.unregister(t)
		s.ended.Done()
	}
	p, err := rpc.NewPeer(t, opts...)
	if err != nil {
		// A bad option from Accept: tell the client why.
		s.ended.Done()
		t.answerError(rpc.CodeServerError, "connection refused: "+err.Error())
		_ = t.Close()
		s.unregister(t)
		return nil, err
	}
	s.mu.Lock()
	if _, ok := s.conns[t]; ok {
		s.conns[t] = p
	}
	closed := s.closed
	s.mu.Unlock()
	if closed { // Close ran while Accept did, and did not see the peer
		_ = p.Close()
		return nil, ErrServerClosed
	}
	if s.peers != nil {
		_, _ = s.peers.Add("", p) // fails only if p has ended already
	}
	if s.onConnect != nil {
		s.onConnect(p, conn)
	}
	return p, nil
}

// register records a new link, unless the server is closed.
func (s *Server) register(t *Transport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[t] = nil
	return true
}

func (s *Server) unregister(t *Transport) {
	s.mu.Lock()
	delete(s.conns, t)
	s.mu.Unlock()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops every Serve (closing its listener), closes every connection
// and waits until each connection's peer has ended and each Accept and
// OnConnect hook in progress has returned. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	conns := make(map[*Transport]*rpc.Peer, len(s.conns))
	for t, p := range s.conns {
		conns[t] = p
	}
	s.mu.Unlock()
	var closing sync.WaitGroup
	for t, p := range conns {
		if p == nil {
			_ = t.Close()
			continue
		}
		closing.Go(func() { _ = p.Close() }) // each waits for its link's end
	}
	closing.Wait()
	s.serving.Wait()
	s.ended.Wait()
	return nil
}

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
