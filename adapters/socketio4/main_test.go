package socketio4_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var errNope = errors.New("nope")

// fixture is a zishang520 socket.io server with the adapter attached,
// served on 127.0.0.1.
type fixture struct {
	io    *socket.Server
	srv   *socketio4.Server
	http  *httptest.Server
	mux   *http.ServeMux // serves /socket.io/; tests may add routes
	peers *rpc.PeerSet
	url   string
}

// serverOpts returns the socket.io options of the tests: EIO3 allowed
// (socket.io-client 2), short pings so that abandoned sessions go fast.
func serverOpts() *socket.ServerOptions {
	o := socket.DefaultServerOptions()
	o.SetAllowEIO3(true)
	o.SetPingInterval(300 * time.Millisecond)
	o.SetPingTimeout(700 * time.Millisecond)
	o.SetConnectTimeout(2 * time.Second)
	return o
}

// newFixture attaches the adapter with opts (Peers and a quiet Logger are
// filled in if nil); before, if not nil, sets up the application's own
// part of the server first. sopts nil means serverOpts().
func newFixture(t testing.TB, opts socketio4.ServerOptions, sopts *socket.ServerOptions, before func(*socket.Server)) *fixture {
	t.Helper()
	if sopts == nil {
		sopts = serverOpts()
	}
	f := &fixture{io: socket.NewServer(nil, sopts)}
	if before != nil {
		before(f.io)
	}
	if opts.Peers == nil {
		opts.Peers = new(rpc.PeerSet)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	// Handler panics and failed notifications are expected here.
	opts.PeerOptions = append([]rpc.Option{rpc.WithLogger(slog.New(slog.DiscardHandler))}, opts.PeerOptions...)
	f.peers = opts.Peers
	srv, err := socketio4.Attach(f.io, &opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	f.mux = http.NewServeMux()
	f.mux.Handle("/socket.io/", f.io.ServeHandler(nil))
	f.http = httptest.NewServer(f.mux)
	f.url = f.http.URL
	t.Cleanup(f.close)
	return f
}

func (f *fixture) close() {
	_ = f.srv.Close()
	done := make(chan struct{})
	f.io.Close(func(error) { close(done) })
	<-done
	f.http.CloseClientConnections()
	f.http.Close()
}

// waitPeers waits until the set holds n peers.
func (f *fixture) waitPeers(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for f.peers.Len() != n {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d peers: have %d", n, f.peers.Len())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// node runs a script of testdata/node and returns its output.
func node(t testing.TB, timeout time.Duration, script string, args ...string) string {
	t.Helper()
	dir := nodetest.Setup(t, "testdata/node")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return nodetest.Run(ctx, t, dir, script, args...)
}

// lastJSON decodes the last line of out into v.
func lastJSON(t testing.TB, out string, v any) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		t.Fatalf("node output %q: %v", out, err)
	}
}

// outcome is what the node scripts print for one call.
type outcome struct {
	Result  json.RawMessage `json:"result"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
}

func (o outcome) is(t *testing.T, name, result string) {
	t.Helper()
	if o.Code != 0 || string(o.Result) != result {
		t.Errorf("%s: got result %s, code %d (%s); want result %s", name, o.Result, o.Code, o.Message, result)
	}
}

func (o outcome) fails(t *testing.T, name string, code rpc.Code) {
	t.Helper()
	if o.Code != int(code) {
		t.Errorf("%s: got result %s, code %d (%s); want code %d", name, o.Result, o.Code, o.Message, code)
	}
}
