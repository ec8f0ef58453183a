package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var errNope = errors.New("nope")

// fixture is a go-socket.io server with the adapter attached, served on
// 127.0.0.1, torn down in the order go-socket.io needs.
type fixture struct {
	io     *sio.Server
	srv    *socketio.Server
	http   *httptest.Server
	peers  *rpc.PeerSet
	url    string
	served chan struct{} // closed when io.Serve has returned
}

// newFixture attaches the adapter with opts (Peers and a quiet Logger are
// filled in if nil);
// before, if not nil, registers the test's own handlers first.
func newFixture(t testing.TB, opts socketio.ServerOptions, before func(*sio.Server)) *fixture {
	t.Helper()
	f := &fixture{io: sio.NewServer(nil), served: make(chan struct{})}
	if before != nil {
		before(f.io)
	}
	if opts.Peers == nil {
		opts.Peers = new(rpc.PeerSet)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler) // refusals and panics are expected here
	}
	f.peers = opts.Peers
	srv, err := socketio.Attach(f.io, &opts)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	go func() {
		defer close(f.served)
		_ = f.io.Serve()
	}()
	f.http = httptest.NewServer(f.io) // 127.0.0.1
	f.url = f.http.URL
	t.Cleanup(f.close)
	return f
}

// close shuts down without go-socket.io's races: every handshake has
// finished (the tests wait for their clients to connect, and node has
// exited), the adapter closes the connections, go-socket.io's sessions
// drain, and only then is its server closed: a handshake still queued
// when it closes would panic.
func (f *fixture) close() {
	_ = f.srv.Close()
	deadline := time.Now().Add(5 * time.Second)
	for f.io.Count() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	f.http.Close()
	_ = f.io.Close()
	<-f.served
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
