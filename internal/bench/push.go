package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"
	"github.com/sourcegraph/jsonrpc2"
	sgws "github.com/sourcegraph/jsonrpc2/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// The push measurement: how long a notification the server sends on its
// own (a push) takes to reach the client's handler, when it follows the
// answer to one of the client's calls by 0 to 3 ms. It is what a user of
// server-to-client messages feels, and what a read path that leaves a
// connection unread between calls gets wrong.
//
// The server runs in a child process, the clients in the measuring one,
// so that, as for users, each end is a program of its own and the two
// are scheduled by the kernel, not by one Go runtime. A client calls
// "add" [1,2]; the server's handler answers 3 and arms its connection:
// once the write that carries the answer has returned from the kernel,
// the connection's delay starts, and at its end the server notifies
// "pushed" with the wall-clock time (UnixNano) just before it hands the
// notification to the library. The client's handler reads the wall clock
// as soon as it runs; the difference is the push's latency. Processes on
// one machine read the same clock (CLOCK_REALTIME), so there is no skew
// between them to correct. The delay is at least as asked, later under
// load (see arm); each push carries the delay as it was (its gap), and
// lateness does not count in the latency, which starts when the push is
// sent. The client waits for the push before its next call, so nothing
// else is in flight.

// PushLibs are the libraries [MeasurePush] compares: Parley
// (adapters/websocket, default options, JSON) and
// github.com/sourcegraph/jsonrpc2 (its websocket ObjectStream over
// gorilla's default Upgrader and Dialer, handlers in AsyncHandler on both
// ends, as in the call scenarios); and "raw", the floor: gorilla/websocket
// with no RPC layer, one reader goroutine per connection that reads the
// clock as soon as a push's frame is read. A push the raw floor too takes
// longer than [PushSlow] was delayed by the machine (the processes not
// being scheduled), not by a library.
var PushLibs = []string{"parley", "sourcegraph", "raw"}

// PushDelays are the times from the answer's write to the push.
var PushDelays = []time.Duration{0, 200 * time.Microsecond, time.Millisecond, 3 * time.Millisecond}

// PushSlow is the latency a push should stay under on an idle machine.
const PushSlow = 2 * time.Millisecond

// PushResult is the latencies of one library's pushes at one delay.
type PushResult struct {
	Lib   string        `json:"lib"`
	Delay time.Duration `json:"delay_ns"`
	// Latencies are every push's, in the order measured: from just
	// before the server handed the push to its library to the client's
	// handler.
	Latencies []time.Duration `json:"latencies_ns"`
	// Gaps are, for each push, the time from the write of the answer
	// before it to its send: Delay, plus the timer's lateness.
	Gaps []time.Duration `json:"gaps_ns"`
}

// Quantile returns the nearest-rank q-quantile of the latencies (q in
// (0, 1]): the smallest latency at least a fraction q of them do not
// exceed. Of 3,000 pushes, the 0.999-quantile is the third largest.
func (r PushResult) Quantile(q float64) time.Duration { return quantile(r.Latencies, q) }

// MedianGap returns the median of the gaps: the delay as it was.
func (r PushResult) MedianGap() time.Duration { return quantile(r.Gaps, 0.5) }

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.999999) - 1 // ceil(n*q)-1, forgiving float error
	return s[min(max(i, 0), len(s)-1)]
}

// Max returns the longest latency.
func (r PushResult) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return slices.Max(r.Latencies)
}

// Over counts the latencies longer than d.
func (r PushResult) Over(d time.Duration) int {
	n := 0
	for _, l := range r.Latencies {
		if l > d {
			n++
		}
	}
	return n
}

// DelayName formats a push delay in milliseconds, as the benchmarks and
// the report name it: "0ms", "0.2ms", "1ms", "3ms".
func DelayName(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
}

// pushWarmup pushes on each connection are made and dropped before
// measuring: the first ones pay for warming caches and growing buffers.
const pushWarmup = 20

// pushBatch pushes are made on one connection before the next takes its
// turn, so that a slow phase of the machine hits every library and delay.
const pushBatch = 50

// pushTimeout bounds the wait for one push; a push that does not come is
// a failure, not a long latency.
const pushTimeout = 10 * time.Second

// MeasurePush starts a push server in a child process started with
// spawn, connects one client per library and delay, and makes n pushes
// on each, interleaved: pushBatch on one connection, then the next, the
// order rotating from round to round. Results are in the order of
// PushDelays, then PushLibs.
func MeasurePush(n int, spawn Spawner) ([]PushResult, error) {
	srv, err := StartPushServer(spawn)
	if err != nil {
		return nil, err
	}
	var (
		clients []*PushClient
		res     []PushResult
	)
	closeClients := func() error {
		var errs []error
		for _, c := range clients {
			errs = append(errs, c.Close())
		}
		return errors.Join(errs...)
	}
	fail := func(err error) ([]PushResult, error) {
		return nil, errors.Join(err, closeClients(), srv.Close())
	}
	for _, d := range PushDelays {
		for _, lib := range PushLibs {
			c, err := srv.Dial(lib, d)
			if err != nil {
				return fail(fmt.Errorf("bench: dialing %s, delay %v: %w", lib, d, err))
			}
			clients = append(clients, c)
			res = append(res, PushResult{Lib: lib, Delay: d, Latencies: make([]time.Duration, 0, n), Gaps: make([]time.Duration, 0, n)})
		}
	}
	for _, c := range clients {
		for range pushWarmup {
			if _, _, err := c.Push(); err != nil {
				return fail(fmt.Errorf("bench: warming up %s, delay %v: %w", c.lib, c.delay, err))
			}
		}
	}
	for round, done := 0, 0; done < n; round, done = round+1, done+pushBatch {
		for i := range clients {
			j := (i + round) % len(clients)
			for range min(pushBatch, n-done) {
				l, g, err := clients[j].Push()
				if err != nil {
					return fail(fmt.Errorf("bench: %s, delay %v: %w", clients[j].lib, clients[j].delay, err))
				}
				res[j].Latencies = append(res[j].Latencies, l)
				res[j].Gaps = append(res[j].Gaps, g)
			}
		}
	}
	if err := errors.Join(closeClients(), srv.Close()); err != nil {
		return nil, err
	}
	return res, nil
}

// PushServer is a push server running in a child process.
type PushServer struct {
	url   string
	child *child
}

// StartPushServer starts a push server, serving both libraries, in a
// child process started with spawn.
func StartPushServer(spawn Spawner) (*PushServer, error) {
	c, err := startChild(spawn, childSpec{Role: "push-server"})
	if err != nil {
		return nil, err
	}
	var ready childSpec
	if err := c.next(&ready, time.Minute); err != nil {
		_, serr := c.stop(10 * time.Second)
		return nil, errors.Join(err, serr)
	}
	return &PushServer{url: ready.URL, child: c}, nil
}

// Close stops the server's process. Close the clients first.
func (s *PushServer) Close() error {
	_, err := s.child.stop(time.Minute)
	return err
}

// PushClient is a client connection to a push server, for one library and
// one delay.
type PushClient struct {
	lib   string
	delay time.Duration
	call  func() error
	close func() error

	arrivals chan arrival // the pushes received; one at most waits
	extra    atomic.Int64 // pushes that came when one was waiting already
}

// arrival is a push as the client's handler saw it.
type arrival struct {
	latency, gap time.Duration
	err          error
}

// received is the client's handler's report of a push that reached it at
// now (UnixNano); decode decodes the push's params.
func (c *PushClient) received(now int64, decode func(v any) error) {
	var p [2]int64 // when the push was sent; when the answer before it was written
	var a arrival
	if err := decode(&p); err != nil {
		a.err = fmt.Errorf("bench: push params: %w", err)
	} else {
		a.latency, a.gap = time.Duration(now-p[0]), time.Duration(p[0]-p[1])
	}
	select {
	case c.arrivals <- a:
	default:
		c.extra.Add(1)
	}
}

// Push makes one call and waits for the push that follows it; it returns
// the push's latency, and the time from the answer's write to the push
// (the delay as it was, timer lateness included).
func (c *PushClient) Push() (latency, gap time.Duration, err error) {
	if err := c.call(); err != nil {
		return 0, 0, err
	}
	t := time.NewTimer(pushTimeout)
	defer t.Stop()
	select {
	case a := <-c.arrivals:
		if n := c.extra.Load(); n > 0 {
			return 0, 0, fmt.Errorf("bench: %d pushes more than calls", n)
		}
		return a.latency, a.gap, a.err
	case <-t.C:
		return 0, 0, fmt.Errorf("bench: no push within %v of the answer", pushTimeout)
	}
}

// Close closes the connection.
func (c *PushClient) Close() error { return c.close() }

// Dial connects a client of lib whose pushes follow the answers by delay.
func (s *PushServer) Dial(lib string, delay time.Duration) (*PushClient, error) {
	u := s.url + lib + "?delay=" + strconv.FormatInt(int64(delay), 10)
	c := &PushClient{lib: lib, delay: delay, arrivals: make(chan arrival, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	// Boxed once, as in the call scenarios.
	var params any = [2]int{1, 2}
	switch lib {
	case "parley":
		r := rpc.NewRouter()
		err := r.Register("pushed", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
			now := time.Now().UnixNano()
			c.received(now, req.DecodeParams)
			return nil, nil
		}))
		if err != nil {
			return nil, err
		}
		p, err := websocket.Dial(ctx, u, &websocket.DialOptions{Handler: r})
		if err != nil {
			return nil, err
		}
		c.call = func() error {
			var got int
			err := p.Call(context.Background(), "add", params, &got)
			return check(got, err)
		}
		c.close = p.Close
	case "sourcegraph":
		h := jsonrpc2.AsyncHandler(jsonrpc2.HandlerWithError(
			func(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
				now := time.Now().UnixNano()
				if !req.Notif || req.Method != "pushed" || req.Params == nil {
					return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "only pushes here"}
				}
				c.received(now, func(v any) error { return json.Unmarshal(*req.Params, v) })
				return nil, nil
			}))
		ws, _, err := (&gorilla.Dialer{HandshakeTimeout: setupTimeout}).DialContext(ctx, u, nil)
		if err != nil {
			return nil, err
		}
		conn := jsonrpc2.NewConn(context.Background(), sgws.NewObjectStream(ws), h, jsonrpc2.SetLogger(quiet{}))
		c.call = func() error {
			var got int
			err := conn.Call(context.Background(), "add", params, &got)
			return check(got, err)
		}
		c.close = func() error {
			err := sgClose(conn)()
			<-conn.DisconnectNotify()
			return err
		}
	case "raw":
		if err := c.dialRaw(ctx, u); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("bench: no push client for %q", lib)
	}
	return c, nil
}

// rawPushCall is the raw floor's call: the bytes of Parley's request.
var rawPushCall = []byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`)

// dialRaw connects the raw floor's client: one goroutine reads every
// frame; an answer goes to the waiting call, a push to received.
func (c *PushClient) dialRaw(ctx context.Context, u string) error {
	ws, _, err := (&gorilla.Dialer{HandshakeTimeout: setupTimeout}).DialContext(ctx, u, nil)
	if err != nil {
		return err
	}
	answers := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, msg, err := ws.ReadMessage()
			now := time.Now().UnixNano()
			switch {
			case err != nil:
				select {
				case answers <- err:
				default:
				}
				return
			case bytes.Contains(msg, answerMark):
				answers <- nil
			default:
				c.received(now, func(v any) error {
					var n struct {
						Params json.RawMessage `json:"params"`
					}
					if err := json.Unmarshal(msg, &n); err != nil {
						return err
					}
					return json.Unmarshal(n.Params, v)
				})
			}
		}
	}()
	c.call = func() error {
		if err := ws.WriteMessage(gorilla.TextMessage, rawPushCall); err != nil {
			return err
		}
		t := time.NewTimer(pushTimeout)
		defer t.Stop()
		select {
		case err := <-answers:
			return err
		case <-t.C:
			return fmt.Errorf("bench: no answer within %v", pushTimeout)
		}
	}
	c.close = func() error {
		err := ws.Close()
		<-done
		return err
	}
	return nil
}

// pushServer is the child role of the push measurement: it serves every
// one of PushLibs on one loopback port (path /parley, /sourcegraph or
// /raw, the delay in nanoseconds as the query's delay), says where, and
// stops when its stdin closes.
func pushServer(_ childSpec, stdin io.Reader, say func(any) error) error {
	r := rpc.NewRouter()
	if err := r.Register("add", rpc.Func(parleyPushAdd)); err != nil {
		return err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{
		Handler: r,
		Accept: func(r *http.Request) ([]rpc.Option, error) {
			pc, err := pushSetup(r)
			if err != nil {
				return nil, err
			}
			return []rpc.Option{rpc.WithValue(pushKey{}, pc)}, nil
		},
	})
	if err != nil {
		return err
	}
	sg := &sgPushServer{conns: map[*jsonrpc2.Conn]struct{}{}}
	raw := &rawPushServer{conns: map[*gorilla.Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.Handle("/parley", ws)
	mux.Handle("/sourcegraph", sg)
	mux.Handle("/raw", raw)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return errors.Join(err, ws.Close())
	}
	srv := startHTTP(watchedListener{ln}, &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: setupTimeout,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, pushKey{}, c)
		},
	})
	err = say(childSpec{URL: srv.URL})
	if err == nil {
		waitEOF(stdin)
	}
	return errors.Join(err, closeAll(ws.Close, sg.Close, raw.Close, srv.Close))
}

// pushKey is the context key of a connection's push state: its
// *watchedConn in an HTTP request's context, its *pushConn in a Parley
// handler's.
type pushKey struct{}

// pushConn is what a server's handler needs to push: the connection to
// watch for the answer's write, and the delay.
type pushConn struct {
	conn  *watchedConn
	delay time.Duration
}

// pushSetup reads a handshake's delay and finds its connection.
func pushSetup(r *http.Request) (*pushConn, error) {
	c, ok := r.Context().Value(pushKey{}).(*watchedConn)
	if !ok {
		return nil, errors.New("bench: not a watched connection")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	d, err := strconv.ParseInt(q.Get("delay"), 10, 64)
	if err != nil || d < 0 {
		return nil, fmt.Errorf("bench: bad delay %q", q.Get("delay"))
	}
	return &pushConn{conn: c, delay: time.Duration(d)}, nil
}

// upgradePush reads a handshake's push state and upgrades it with
// gorilla's default Upgrader, for the servers that are not Parley's; on
// failure the client has been answered.
func upgradePush(w http.ResponseWriter, r *http.Request) (*pushConn, *gorilla.Conn, bool) {
	pc, err := pushSetup(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return nil, nil, false
	}
	return pc, ws, true
}

// parleyPushAdd is Parley's "add" for the push measurement: it answers,
// and arms the connection to push after the answer is written.
func parleyPushAdd(ctx context.Context, p [2]int) (int, error) {
	pc, ok := ctx.Value(pushKey{}).(*pushConn)
	peer := rpc.PeerFromContext(ctx)
	if !ok || peer == nil {
		return 0, errors.New("bench: no push state")
	}
	pc.conn.arm(pc.delay, func(written int64) {
		_ = peer.Notify(context.Background(), "pushed", [2]int64{time.Now().UnixNano(), written})
	})
	return p[0] + p[1], nil
}

// sgPushServer serves sourcegraph/jsonrpc2 connections for the push
// measurement.
type sgPushServer struct {
	mu    sync.Mutex
	conns map[*jsonrpc2.Conn]struct{}
}

func (s *sgPushServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pc, ws, ok := upgradePush(w, r)
	if !ok {
		return
	}
	h := jsonrpc2.AsyncHandler(jsonrpc2.HandlerWithError(
		func(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
			var p [2]int
			if req.Method != "add" || req.Params == nil {
				return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeMethodNotFound, Message: "only add here"}
			}
			if err := json.Unmarshal(*req.Params, &p); err != nil {
				return nil, &jsonrpc2.Error{Code: jsonrpc2.CodeInvalidParams, Message: err.Error()}
			}
			pc.conn.arm(pc.delay, func(written int64) {
				_ = conn.Notify(context.Background(), "pushed", [2]int64{time.Now().UnixNano(), written})
			})
			return p[0] + p[1], nil
		}))
	conn := jsonrpc2.NewConn(context.Background(), sgws.NewObjectStream(ws), h, jsonrpc2.SetLogger(quiet{}))
	s.mu.Lock()
	s.conns[conn] = struct{}{}
	s.mu.Unlock()
}

// Close closes every connection and waits for each to end.
func (s *sgPushServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for c := range s.conns {
		errs = append(errs, sgClose(c)())
		<-c.DisconnectNotify()
	}
	return errors.Join(errs...)
}

// rawPushServer serves the raw floor: per connection, one goroutine reads
// each call and writes a fixed answer, and a push follows on its own
// goroutine, as the libraries' do; gorilla takes one writer at a time.
type rawPushServer struct {
	mu    sync.Mutex
	conns map[*gorilla.Conn]struct{}
	wg    sync.WaitGroup
}

// rawPushAnswer is the raw floor's answer: the bytes of Parley's.
var rawPushAnswer = []byte(`{"jsonrpc":"2.0","result":3,"id":1}`)

func (s *rawPushServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pc, ws, ok := upgradePush(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.conns[ws] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer ws.Close()
		var wmu sync.Mutex
		write := func(b []byte) {
			wmu.Lock()
			defer wmu.Unlock()
			_ = ws.WriteMessage(gorilla.TextMessage, b)
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			pc.conn.arm(pc.delay, func(written int64) {
				b := strconv.AppendInt([]byte(`{"jsonrpc":"2.0","method":"pushed","params":[`), time.Now().UnixNano(), 10)
				b = strconv.AppendInt(append(b, ','), written, 10)
				write(append(b, "]}"...))
			})
			write(rawPushAnswer)
		}
	}()
}

// Close closes every connection and waits for their goroutines.
func (s *rawPushServer) Close() error {
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// watchedListener hands out watchedConns.
type watchedListener struct{ net.Listener }

func (l watchedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c}, nil
}

// watchedConn is a server's connection that starts a push once the write
// carrying an answer has returned. It sits under the library's WebSocket
// connection (HTTP hands it to the upgrade), so it sees exactly the
// bytes the library writes, frames and all.
type watchedConn struct {
	net.Conn
	armed atomic.Pointer[func()]
}

// answerMark is in every answer of both libraries and in nothing else the
// server writes (its pushes are notifications), in the clear: a server's
// frames are not masked.
var answerMark = []byte(`"result"`)

// arm makes the next write that carries an answer start push after delay,
// on a goroutine of its own, telling it when the write returned
// (UnixNano).
func (c *watchedConn) arm(delay time.Duration, push func(written int64)) {
	start := func() {
		written := time.Now()
		switch {
		case delay <= 0:
			go push(written.UnixNano())
		case delay < time.Millisecond:
			// An idle Go process wakes for a timer within about a
			// millisecond, not sooner: a shorter delay is waited out
			// by watching the clock.
			go func() {
				for time.Since(written) < delay {
					runtime.Gosched()
				}
				push(written.UnixNano())
			}()
		default:
			time.AfterFunc(delay, func() { push(written.UnixNano()) })
		}
	}
	c.armed.Store(&start)
}

func (c *watchedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if f := c.armed.Load(); f != nil && bytes.Contains(p, answerMark) && c.armed.CompareAndSwap(f, nil) {
		(*f)()
	}
	return n, err
}

// CloseWrite passes on the TCP connection's, which Parley uses to end a
// connection cleanly.
func (c *watchedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
