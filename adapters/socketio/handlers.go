package socketio

import (
	"fmt"
	"slices"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/rpc"
)

// The four handlers Attach registers on the namespace.
//
// go-socket.io calls handleConnect on the connection's setup goroutine
// (for "/") or its read goroutine (other namespaces), handleEvent on its
// read goroutine, handleDisconnect from whichever goroutine closes the
// connection, and handleError on its error goroutine. It does not recover
// a panic in the first, third or fourth: the process would crash; one in
// handleEvent drops the connection. So every call into user code here
// recovers.

// handleConnect makes the connection's peer, or refuses the connection.
//
// It refuses by closing the connection and returning nil, never by
// returning an error: on namespace "/", go-socket.io answers an error by
// closing the connection without removing its session from the engine's
// table, where it then stays for good (server.Count() grows).
func (s *Server) handleConnect(conn sio.Conn) error {
	if err := s.connect(conn); err != nil {
		s.log.Info("socketio: connection refused", "namespace", s.ns, "conn", conn.ID(), "err", err)
		_ = conn.Close()
		if s.onError != nil {
			_ = s.call("SocketOnError", func() error { s.onError(conn, err); return nil })
		}
	}
	return nil
}

// connect makes the connection's peer; an error refuses the connection.
func (s *Server) connect(conn sio.Conn) (err error) {
	// Register first, so that a disconnect that races with this setup
	// (possible on namespaces other than "/") finds the transport.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	if s.conns[conn] != nil {
		// go-socket.io runs OnConnect again for every connect packet a
		// client sends on a namespace it is in already; the connection
		// keeps the peer it has.
		s.mu.Unlock()
		return nil
	}
	t := newTransport(conn, s)
	s.conns[conn] = t
	s.mu.Unlock()

	var p *rpc.Peer
	defer func() {
		if err != nil {
			t.end(fmt.Errorf("socketio: connection refused: %w", err))
			if p != nil {
				_ = p.Close()
			}
		}
	}()

	if s.onConnect != nil {
		if err := s.call("SocketOnConnect", func() error { return s.onConnect(conn) }); err != nil {
			return err
		}
	}
	c, err := s.pickCodec(conn)
	if err != nil {
		return err
	}
	t.codec, t.binary = c, c.Binary()
	opts := s.base
	if s.accept != nil {
		var more []rpc.Option
		if err := s.call("Accept", func() (err error) { more, err = s.accept(conn); return err }); err != nil {
			return err
		}
		opts = append(slices.Clip(opts), more...)
	}
	opts = append(slices.Clip(opts), rpc.WithCodec(c)) // the client's choice wins

	p, err = rpc.NewPeer(t, opts...)
	if err != nil {
		return fmt.Errorf("socketio: making the peer: %w", err)
	}
	s.mu.Lock()
	t.peer = p
	s.mu.Unlock()
	if s.peers != nil {
		if err := addPeer(s.peers, conn.ID(), p); err != nil {
			return err
		}
	}
	if s.onPeer != nil {
		if err := s.call("OnConnect", func() error { s.onPeer(p, conn); return nil }); err != nil {
			return err
		}
	}
	// Close may have run meanwhile without seeing the peer.
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	return nil
}

// addPeer adds p to set under id. A peer that ended leaves its set a
// moment later, from a goroutine of its own; a connection that reuses its
// id (a namespace left and joined again on one socket.io connection) may
// come first, so wait a little for an ended holder of the id to go.
func addPeer(set *rpc.PeerSet, id string, p *rpc.Peer) error {
	var err error
	for range 200 {
		if _, err = set.Add(id, p); err == nil {
			return nil
		}
		old, ok := set.Get(id)
		if ok {
			select {
			case <-old.Done():
			default:
				return err // held by a live peer
			}
		}
		time.Sleep(time.Millisecond)
	}
	return err
}

// handleDisconnect ends the connection's peer, then calls the user's handler.
// go-socket.io may call it more than once for one connection.
func (s *Server) handleDisconnect(conn sio.Conn, reason string) {
	if t := s.lookup(conn); t != nil {
		t.disconnected(reason)
		s.forget(t)
	}
	if s.onDisc != nil {
		_ = s.call("SocketOnDisconnect", func() error { s.onDisc(conn, reason); return nil })
	}
}

// handleError notes the error as the likely cause of a disconnect, then calls
// the user's handler.
func (s *Server) handleError(conn sio.Conn, err error) {
	if conn != nil {
		if t := s.lookup(conn); t != nil {
			t.noteError(err)
		}
	}
	if s.onError != nil {
		_ = s.call("SocketOnError", func() error { s.onError(conn, err); return nil })
	}
}

// handleEvent handles the event. Its argument type cannot fail to decode (see
// eventArg), so go-socket.io never drops a connection over a payload.
func (s *Server) handleEvent(conn sio.Conn, a eventArg) {
	t := s.lookup(conn)
	if t == nil {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed && s.warned.CompareAndSwap(false, true) {
			s.log.Error("socketio: an rpc event came from a connection the adapter never saw connect; was the namespace's OnConnect replaced after Attach?",
				"namespace", s.ns, "event", s.event, "conn", conn.ID())
		}
		return
	}
	t.receive(&a)
}

// call runs a user hook, turning a panic into an error.
func (s *Server) call(name string, f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("socketio: "+name+" panicked", "panic", v)
			err = fmt.Errorf("socketio: %s panicked: %v", name, v)
		}
	}()
	return f()
}
