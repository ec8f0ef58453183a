package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Directions of a call.
const (
	ClientToServer = "c2s" // the dialing end calls the accepting end
	ServerToClient = "s2c" // the accepting end calls the dialing end
)

// InFlight lists the concurrency levels every scenario runs at.
var InFlight = []int{1, 64}

// Runner makes calls over a connection it has set up.
type Runner interface {
	// Run makes n calls, keeping up to inflight of them outstanding, and
	// returns the first failure.
	Run(n, inflight int) error
	// Close tears the connection and its server down.
	Close() error
}

// Scenario is one library and direction.
type Scenario struct {
	Lib   string // "raw", "parley-json", "parley-cbor", "parley-json-inline", "sourcegraph", "jrpc2", "hub-json", "hub-cbor", "hub-json-inline", "nexus", "raw-relay"
	Dir   string // ClientToServer, ServerToClient, or Routed (caller, router, callee)
	Start func() (Runner, error)
}

// Name is the scenario's benchmark name below BenchmarkCall, without the
// in-flight level.
func (s Scenario) Name() string { return s.Lib + "/" + s.Dir }

// Scenarios returns every scenario, the raw echo first.
func Scenarios() []Scenario {
	return []Scenario{
		{"raw", ClientToServer, startRaw},
		{"parley-json", ClientToServer, func() (Runner, error) { return startParley(jsonCodec, ClientToServer, false) }},
		{"parley-json", ServerToClient, func() (Runner, error) { return startParley(jsonCodec, ServerToClient, false) }},
		{"parley-cbor", ClientToServer, func() (Runner, error) { return startParley(cborCodec, ClientToServer, false) }},
		{"parley-cbor", ServerToClient, func() (Runner, error) { return startParley(cborCodec, ServerToClient, false) }},
		{"parley-json-inline", ClientToServer, func() (Runner, error) { return startParley(jsonCodec, ClientToServer, true) }},
		{"parley-json-inline", ServerToClient, func() (Runner, error) { return startParley(jsonCodec, ServerToClient, true) }},
		{"sourcegraph", ClientToServer, func() (Runner, error) { return startSourcegraph(ClientToServer) }},
		{"sourcegraph", ServerToClient, func() (Runner, error) { return startSourcegraph(ServerToClient) }},
		{"jrpc2", ClientToServer, func() (Runner, error) { return startJrpc2(ClientToServer) }},
		{"jrpc2", ServerToClient, func() (Runner, error) { return startJrpc2(ServerToClient) }},
		{"hub-json", Routed, func() (Runner, error) { return startHub(jsonCodec, false) }},
		{"hub-cbor", Routed, func() (Runner, error) { return startHub(cborCodec, false) }},
		{"hub-json-inline", Routed, func() (Runner, error) { return startHub(jsonCodec, true) }},
		{"nexus", Routed, startNexus},
		{"raw-relay", Routed, startRawRelay},
	}
}

// setupTimeout bounds connecting and the first exchange of a scenario.
const setupTimeout = 10 * time.Second

// errBadAnswer is a call that came back with something other than 3.
var errBadAnswer = errors.New("bench: add([1,2]) did not answer 3")

// callRunner runs an RPC library's call function; close tears down.
type callRunner struct {
	call  func(ctx context.Context) error
	close func() error
}

func (r *callRunner) Run(n, inflight int) error {
	return callMany(n, inflight, r.call)
}

func (r *callRunner) Close() error { return r.close() }

// callMany makes n calls from inflight goroutines at once, each calling
// in turn, as inflight users of one connection would.
func callMany(n, inflight int, call func(ctx context.Context) error) error {
	ctx := context.Background()
	if inflight <= 1 {
		for range n {
			if err := call(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range inflight {
		share := n / inflight
		if i < n%inflight {
			share++
		}
		if share == 0 {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if err := call(ctx); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// httpServer is an HTTP server on a loopback port.
type httpServer struct {
	URL string // ws://127.0.0.1:port/
	srv *http.Server
	ln  net.Listener
	end chan struct{}
}

// serveHTTP serves h on 127.0.0.1 at a free port.
func serveHTTP(h http.Handler) (*httpServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return startHTTP(ln, &http.Server{Handler: h, ReadHeaderTimeout: setupTimeout}), nil
}

// startHTTP serves srv on ln, a loopback listener.
func startHTTP(ln net.Listener, srv *http.Server) *httpServer {
	s := &httpServer{
		URL: "ws://" + ln.Addr().String() + "/",
		srv: srv,
		ln:  ln,
		end: make(chan struct{}),
	}
	go func() {
		defer close(s.end)
		_ = s.srv.Serve(ln)
	}()
	return s
}

// Close stops the HTTP server. Connections already upgraded are not its
// to close: their owners close them.
func (s *httpServer) Close() error {
	err := s.srv.Close()
	<-s.end
	return err
}

// closeAll closes each of cs and returns the errors joined, ignoring
// those that only say a connection was closed already.
func closeAll(cs ...func() error) error {
	var errs []error
	for _, c := range cs {
		if c == nil {
			continue
		}
		if err := c(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// check turns a call's outcome into an error.
func check(got int, err error) error {
	if err != nil {
		return err
	}
	if got != 3 {
		return fmt.Errorf("%w: got %d", errBadAnswer, got)
	}
	return nil
}
