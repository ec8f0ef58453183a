package socketio_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// TestAttachRefusesToReplaceHandlers: go-socket.io replaces a namespace's
// OnConnect, OnDisconnect, OnError and event handlers silently; Attach
// refuses instead, naming what is there.
func TestAttachRefusesToReplaceHandlers(t *testing.T) {
	cases := []struct {
		name     string
		register func(s *sio.Server)
		want     string
	}{
		{"OnConnect", func(s *sio.Server) { s.OnConnect("/", func(sio.Conn) error { return nil }) }, "OnConnect"},
		{"OnDisconnect", func(s *sio.Server) { s.OnDisconnect("/", func(sio.Conn, string) {}) }, "OnDisconnect"},
		{"OnError", func(s *sio.Server) { s.OnError("", func(sio.Conn, error) {}) }, "OnError"}, // "" is "/" too
		{"event", func(s *sio.Server) { s.OnEvent("/", "rpc", func(sio.Conn, string) {}) }, `event "rpc"`},
		{"twice", func(s *sio.Server) { _, _ = socketio.Attach(s, nil) }, "OnConnect"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := sio.NewServer(nil)
			c.register(s)
			_, err := socketio.Attach(s, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error naming %s", err, c.want)
			}
		})
	}
	s := sio.NewServer(nil)
	s.OnConnect("/chat", func(sio.Conn) error { return nil })
	if _, err := socketio.Attach(s, &socketio.ServerOptions{Namespace: "/chat"}); err == nil {
		t.Error("Attach replaced the OnConnect of namespace /chat")
	}
	// Other events, and other namespaces, are no obstacle.
	s = sio.NewServer(nil)
	s.OnEvent("/", "chat", func(sio.Conn, string) {})
	s.OnConnect("/other", func(sio.Conn) error { return nil })
	if _, err := socketio.Attach(s, nil); err != nil {
		t.Errorf("with an unrelated event and namespace: %v", err)
	}
}

// TestAttachChecksOptions: bad options are reported by Attach.
func TestAttachChecksOptions(t *testing.T) {
	for name, o := range map[string]*socketio.ServerOptions{
		"namespace":   {Namespace: "chat"},
		"reserved":    {Event: "disconnect"},
		"idle":        {IdleTimeout: -time.Second},
		"peer option": {PeerOptions: []rpc.Option{rpc.WithMaxConcurrency(0)}},
		"nil codec":   {Codecs: []codec.Codec{nil}},
		"codec twice": {Codecs: []codec.Codec{json.Codec{}, json.Codec{}}},
	} {
		if _, err := socketio.Attach(sio.NewServer(nil), o); err == nil {
			t.Errorf("%s: Attach accepted %+v", name, o)
		}
	}
	if _, err := socketio.Attach(nil, nil); err == nil {
		t.Error("Attach accepted a nil server")
	}
}

// TestNamespace: the adapter on a namespace other than "/", next to the
// user's own handler on "/", in JSON and CBOR.
func TestNamespace(t *testing.T) {
	f := newFixture(t, socketio.ServerOptions{Namespace: "/rpc", Handler: testRouter()}, func(s *sio.Server) {
		s.OnConnect("/", func(sio.Conn) error { return nil })
	})
	if f.srv.Namespace() != "/rpc" || f.srv.Event() != "rpc" {
		t.Errorf("Namespace %q, Event %q", f.srv.Namespace(), f.srv.Event())
	}
	for _, c := range []string{"json", "cbor"} {
		var res struct{ Add outcome }
		lastJSON(t, node(t, 20*time.Second, "namespace.mjs", f.url, "/rpc", c), &res)
		res.Add.is(t, c, "42")
	}
}

// TestAcceptRefuses: an error from Accept refuses the connection; the
// user's OnError hears why; go-socket.io keeps no session for it.
func TestAcceptRefuses(t *testing.T) {
	errs := make(chan error, 1)
	f := newFixture(t, socketio.ServerOptions{
		Accept:        func(sio.Conn) ([]rpc.Option, error) { return nil, errNope },
		SocketOnError: func(_ sio.Conn, err error) { errs <- err },
	}, nil)
	var res struct{ Disconnected bool }
	lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "json"), &res)
	if !res.Disconnected {
		t.Error("the refused client was not disconnected")
	}
	if err := <-errs; !errors.Is(err, errNope) {
		t.Errorf("OnError got %v", err)
	}
	if f.peers.Len() != 0 {
		t.Error("a refused connection has a peer")
	}
	waitCount(t, f.io, 0)
}

// TestHookPanics: a panic in a user hook refuses the connection and is
// logged; the server lives on (go-socket.io would crash).
func TestHookPanics(t *testing.T) {
	for _, hook := range []string{"SocketOnConnect", "Accept", "OnConnect"} {
		t.Run(hook, func(t *testing.T) {
			o := socketio.ServerOptions{}
			switch hook {
			case "SocketOnConnect":
				o.SocketOnConnect = func(sio.Conn) error { panic("boom") }
			case "Accept":
				o.Accept = func(sio.Conn) ([]rpc.Option, error) { panic("boom") }
			case "OnConnect":
				o.OnConnect = func(*rpc.Peer, sio.Conn) { panic("boom") }
			}
			o.SocketOnDisconnect = func(sio.Conn, string) { panic("boom again") }
			f := newFixture(t, o, nil)
			var res struct{ Disconnected bool }
			lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "json"), &res)
			if !res.Disconnected {
				t.Error("the client was not disconnected")
			}
			f.waitPeers(t, 0)
			waitCount(t, f.io, 0)
		})
	}
}

// TestIdleTimeout: a client that says nothing is closed after the idle
// timeout, and its peer ends with ErrIdle.
func TestIdleTimeout(t *testing.T) {
	peers := make(chan *rpc.Peer, 1)
	f := newFixture(t, socketio.ServerOptions{
		IdleTimeout: 300 * time.Millisecond,
		OnConnect:   func(p *rpc.Peer, _ sio.Conn) { peers <- p },
	}, nil)
	var res struct{ Disconnected bool }
	lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "json"), &res)
	if !res.Disconnected {
		t.Error("the idle client was not disconnected")
	}
	p := <-peers
	if err := p.Wait(); !errors.Is(err, socketio.ErrIdle) || !errors.Is(err, rpc.ErrConnectionLost) {
		t.Errorf("the idle peer ended with %v", err)
	}
}

// TestClosedServerRefuses: after Close, new connections are refused.
func TestClosedServerRefuses(t *testing.T) {
	f := newFixture(t, socketio.ServerOptions{}, nil)
	_ = f.srv.Close()
	var res struct{ Disconnected bool }
	lastJSON(t, node(t, 20*time.Second, "refused.mjs", f.url, "json"), &res)
	if !res.Disconnected {
		t.Error("a client of a closed server was not disconnected")
	}
	waitCount(t, f.io, 0)
}

// TestConcurrentEmits: the user's own plain emits from many goroutines run
// alongside the adapter's writer and the peer's notifications on the
// same connection (go-socket.io's plain Emit, without an ack, is free of
// data races: run with -race), and PeerOf gives the user's event handler
// the connection's peer.
func TestConcurrentEmits(t *testing.T) {
	const goroutines, each = 8, 50
	var srv atomic.Pointer[socketio.Server] // set once Attach has returned
	f := newFixture(t, socketio.ServerOptions{
		OnConnect: func(p *rpc.Peer, conn sio.Conn) {
			go func() {
				var wg sync.WaitGroup
				for g := range goroutines {
					wg.Add(2)
					go func() {
						defer wg.Done()
						for i := range each {
							conn.Emit("tick", strconv.Itoa(g*each+i))
						}
					}()
					go func() {
						defer wg.Done()
						for i := range each {
							_ = p.Notify(context.Background(), "note", []int{g*each + i})
						}
					}()
				}
				wg.Wait()
			}()
		},
	}, func(s *sio.Server) {
		s.OnEvent("/", "hello", func(conn sio.Conn, msg string) {
			p, ok := srv.Load().PeerOf(conn)
			if !ok {
				t.Error("PeerOf: no peer")
				return
			}
			_ = p.Notify(context.Background(), "pong", []string{msg})
		})
	})
	srv.Store(f.srv)
	var res struct {
		Pong         string
		Ticks, Notes int
	}
	lastJSON(t, node(t, 30*time.Second, "ticks.mjs", f.url, strconv.Itoa(goroutines*each)), &res)
	if res.Pong != "hello" || res.Ticks != goroutines*each || res.Notes != goroutines*each {
		t.Errorf("got %+v", res)
	}
}
