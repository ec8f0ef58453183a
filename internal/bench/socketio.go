package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	gosio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	gosiows "github.com/googollee/go-socket.io/engineio/transport/websocket"
	"github.com/gorilla/websocket"
	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

// Socket.IO: the same call, add(1, 2) answered 3, client to server, over
// each Socket.IO adapter, against a plain emit-with-acknowledgement round
// trip on the same server (the limit: the server's own listener answering
// through the ack, no RPC layer):
//
//   - sio4-ack: zishang520/socket.io (servers/socket/v3), a listener
//     s.On("add", ...) that acknowledges a+b;
//   - sio4-parley-ack: the same server with adapters/socketio4; the
//     router's "add" served as the event, answered through the ack (the
//     same packets as sio4-ack on the wire);
//   - sio4-parley-rpc: the same server with adapters/socketio4, JSON-RPC
//     2.0 on the "rpc" event (a JSON string each way);
//   - sio2-ack: go-socket.io v1.7.0, OnEvent("/", "add", ...) returning
//     a+b as the ack (websocket transport only);
//   - sio2-parley-rpc: go-socket.io with adapters/socketio, JSON-RPC on
//     the "rpc" event (go-socket.io's adapter serves no acks as calls).
//
// The client is the same for all: a WebSocket (gorilla) speaking Engine.IO
// (4, or 3 for go-socket.io) and the Socket.IO packet format by hand,
// with one reader goroutine matching answers to callers by id. It is not
// zishang520's Go client, whose init installs a SIGTERM handler.

// SocketIOScenarios returns the Socket.IO scenarios, each server's limit
// first.
func SocketIOScenarios() []Scenario {
	return []Scenario{
		{"sio4-ack", ClientToServer, func() (Runner, error) { return startSIO4(sio4Plain) }},
		{"sio4-parley-ack", ClientToServer, func() (Runner, error) { return startSIO4(sio4Acks) }},
		{"sio4-parley-rpc", ClientToServer, func() (Runner, error) { return startSIO4(sio4RPC) }},
		{"sio2-ack", ClientToServer, func() (Runner, error) { return startSIO2(false) }},
		{"sio2-parley-rpc", ClientToServer, func() (Runner, error) { return startSIO2(true) }},
	}
}

// The socketio4 scenarios' servers.
const (
	sio4Plain = iota // the application's own listener
	sio4Acks         // Parley, the router's method as the event
	sio4RPC          // Parley, JSON-RPC on the "rpc" event
)

func startSIO4(kind int) (Runner, error) {
	io := socket.NewServer(nil, nil)
	ready := make(chan struct{}, 1) // the server has set the socket up
	signal := func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	var rpcsrv *socketio4.Server
	if kind == sio4Plain {
		_ = io.On("connection", func(args ...any) {
			s := args[0].(*socket.Socket)
			_ = s.On("add", func(args ...any) {
				if len(args) == 3 {
					a, _ := args[0].(float64)
					b, _ := args[1].(float64)
					if ack, ok := args[2].(socket.Ack); ok {
						ack([]any{a + b}, nil)
					}
				}
			})
			signal()
		})
	} else {
		var err error
		rpcsrv, err = socketio4.Attach(io, &socketio4.ServerOptions{
			Handler:   addRouter(false),
			OnConnect: func(*rpc.Peer, *socket.Socket) { signal() },
		})
		if err != nil {
			io.Close(nil)
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	hs, err := serveHTTP(mux)
	if err != nil {
		io.Close(nil)
		return nil, err
	}
	stop := func() error {
		if rpcsrv != nil {
			_ = rpcsrv.Close()
		}
		done := make(chan struct{})
		io.Close(func(error) { close(done) })
		<-done
		return hs.Close()
	}
	c, err := dialSIO(hs.URL+"socket.io/?EIO=4&transport=websocket", 4, ready)
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	r := &sioRunner{c: c, stop: stop}
	if kind == sio4RPC {
		r.rpc = true
	}
	return r, nil
}

func startSIO2(parley bool) (Runner, error) {
	io := gosio.NewServer(&engineio.Options{Transports: []transport.Transport{gosiows.Default}})
	ready := make(chan struct{}, 1)
	signal := func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	var rpcsrv *socketio.Server
	if parley {
		var err error
		rpcsrv, err = socketio.Attach(io, &socketio.ServerOptions{
			Handler:   addRouter(false),
			OnConnect: func(*rpc.Peer, gosio.Conn) { signal() },
		})
		if err != nil {
			return nil, err
		}
	} else {
		io.OnConnect("/", func(gosio.Conn) error { signal(); return nil })
		io.OnEvent("/", "add", func(_ gosio.Conn, a, b int) int { return a + b })
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = io.Serve()
	}()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs, err := serveHTTP(mux)
	if err != nil {
		io.Close()
		<-served
		return nil, err
	}
	stop := func() error {
		err := hs.Close()
		if rpcsrv != nil {
			rpcsrv.Close()
		}
		// go-socket.io panics on a handshake completing after its Close;
		// there is none here: the HTTP server is closed.
		deadline := time.Now().Add(5 * time.Second)
		for io.Count() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		io.Close()
		<-served
		return err
	}
	c, err := dialSIO(hs.URL+"socket.io/?EIO=3&transport=websocket", 3, ready)
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	return &sioRunner{c: c, stop: stop, rpc: parley}, nil
}

// sioClient is a Socket.IO client over a raw WebSocket: callers write
// their packet and wait for the answer with their id, which one reader
// goroutine hands them.
type sioClient struct {
	ws      *websocket.Conn
	eio     int // Engine.IO protocol: 4, or 3 (the client pings)
	wmu     sync.Mutex
	mu      sync.Mutex
	waiting map[uint64]chan []byte
	nextID  uint64
	err     error         // why the reader stopped
	done    chan struct{} // closed when the reader stops
	pinger  chan struct{} // closed to stop the Engine.IO 3 pings
}

// dialSIO opens the WebSocket, connects to namespace "/", and waits for
// ready: the server's connection handler has run (zishang520 closes a
// connection whose event arrives before it recorded the socket).
func dialSIO(url string, eio int, ready <-chan struct{}) (*sioClient, error) {
	d := websocket.Dialer{HandshakeTimeout: setupTimeout}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(setupTimeout))
	if _, msg, err := ws.ReadMessage(); err != nil || !bytes.HasPrefix(msg, []byte("0")) {
		ws.Close()
		return nil, fmt.Errorf("bench: socket.io open packet %q: %v", msg, err)
	}
	if eio == 4 {
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			ws.Close()
			return nil, err
		}
	}
	for { // Engine.IO 3 servers send "40" unasked
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("bench: socket.io connect packet: %w", err)
		}
		if bytes.HasPrefix(msg, []byte("40")) {
			break
		}
	}
	select {
	case <-ready:
	case <-time.After(setupTimeout):
		ws.Close()
		return nil, errors.New("bench: the socket.io server did not set the connection up")
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &sioClient{ws: ws, eio: eio, waiting: make(map[uint64]chan []byte), done: make(chan struct{}), pinger: make(chan struct{})}
	go c.read()
	if eio == 3 {
		go c.ping()
	}
	return c, nil
}

// read hands each answer to its caller: an acknowledgement "43<id>[...]",
// or a JSON-RPC response on the event "42[\"rpc\",\"...\"id\":<id>...\"]".
// It answers the server's Engine.IO 4 pings.
func (c *sioClient) read() {
	defer close(c.done)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			for id, ch := range c.waiting {
				close(ch)
				delete(c.waiting, id)
			}
			c.mu.Unlock()
			return
		}
		var id uint64
		var ok bool
		switch {
		case bytes.Equal(msg, []byte("2")):
			c.write([]byte("3"))
			continue
		case bytes.HasPrefix(msg, []byte("43")):
			id, ok = leadingUint(msg[2:])
		case bytes.HasPrefix(msg, []byte(`42["rpc",`)):
			id, ok = memberUint(msg, `\"id\":`)
		}
		if !ok {
			continue
		}
		c.mu.Lock()
		ch := c.waiting[id]
		delete(c.waiting, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	}
}

// ping keeps an Engine.IO 3 session alive: there the client pings.
func (c *sioClient) ping() {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.write([]byte("2"))
		case <-c.pinger:
			return
		case <-c.done:
			return
		}
	}
}

func (c *sioClient) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// call sends the packet that packet(id) makes and returns the answer.
func (c *sioClient) call(buf []byte, packet func(buf []byte, id uint64) []byte) ([]byte, error) {
	ch := make(chan []byte, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	id := c.nextID
	c.waiting[id] = ch
	c.mu.Unlock()
	if err := c.write(packet(buf, id)); err != nil {
		return nil, err
	}
	msg, ok := <-ch
	if !ok {
		return nil, fmt.Errorf("bench: socket.io connection lost: %w", c.err)
	}
	return msg, nil
}

func (c *sioClient) close() error {
	close(c.pinger)
	err := c.ws.Close()
	<-c.done
	return err
}

// memberUint reads the number after key (and any spaces) in msg.
func memberUint(msg []byte, key string) (uint64, bool) {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return 0, false
	}
	return leadingUint(bytes.TrimLeft(msg[i+len(key):], " "))
}

// leadingUint reads the decimal number b starts with.
func leadingUint(b []byte) (uint64, bool) {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(b[:n]), 10, 64)
	return v, err == nil
}

// sioRunner makes add(1, 2) calls: emits with an acknowledgement, or
// JSON-RPC requests on the "rpc" event (rpc).
type sioRunner struct {
	c    *sioClient
	rpc  bool
	stop func() error
}

func (r *sioRunner) Run(n, inflight int) error {
	pool := sync.Pool{New: func() any { b := make([]byte, 0, 128); return &b }}
	return callMany(n, inflight, func(context.Context) error {
		bp := pool.Get().(*[]byte)
		defer pool.Put(bp)
		var msg []byte
		var err error
		if r.rpc {
			msg, err = r.c.call(*bp, func(b []byte, id uint64) []byte {
				b = append(b[:0], `42["rpc","{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[1,2],\"id\":`...)
				b = strconv.AppendUint(b, id, 10)
				return append(b, `}"]`...)
			})
		} else {
			msg, err = r.c.call(*bp, func(b []byte, id uint64) []byte {
				b = append(b[:0], "42"...)
				b = strconv.AppendUint(b, id, 10)
				return append(b, `["add",1,2]`...)
			})
		}
		if err != nil {
			return err
		}
		if r.rpc {
			if v, ok := memberUint(msg, `\"result\":`); !ok || v != 3 {
				return fmt.Errorf("%w: %s", errBadAnswer, msg)
			}
		} else if !bytes.HasSuffix(bytes.TrimSpace(msg), []byte("[3]")) { // go-socket.io ends its packets with a newline
			return fmt.Errorf("%w: %s", errBadAnswer, msg)
		}
		return nil
	})
}

func (r *sioRunner) Close() error {
	return errors.Join(r.c.close(), r.stop())
}
