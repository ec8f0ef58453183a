package stream_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

// childEnv, when set in the environment, makes the test binary a stdio
// server (framing "header" or "lines") instead of running tests: the
// node scripts start it that way.
const childEnv = "PARLEY_STREAM_CHILD"

func TestMain(m *testing.M) {
	if f := os.Getenv(childEnv); f != "" {
		os.Exit(serveStdio(f))
	}
	leakcheck.Main(m)
}

// serveStdio serves the test router over standard input and output until
// the other end closes them.
func serveStdio(framing string) int {
	f := stream.Header
	if framing == "lines" {
		f = stream.Lines
	}
	p, err := stream.NewPeer(stream.Stdio(), &stream.Options{Framing: f, Handler: newRouter()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	<-p.Done()
	fmt.Fprintln(os.Stderr, "stdio child: peer ended:", p.Err())
	return 0
}

type mulParams struct {
	A int `json:"a"`
	B int `json:"b"`
}

type callbackResult struct {
	Who     string `json:"who"`
	Product int    `json:"product"`
}

// newRouter serves what the tests' clients call:
//
//	add         [n...] -> their sum
//	echo        anything -> itself
//	callMeBack  {a, b} -> {who, product}: calls the client's whoami and
//	            mul {a, b} while its own call is open
//	waitCancel  -> tells the client "started" (a notification), then waits
//	            for its context to end: a cancelled call answers -32800;
//	            after 20 s it answers "not cancelled"
//	count       {n} -> n, after the partial results 1..n (rpc.Progress)
func newRouter() *rpc.Router {
	r := rpc.NewRouter()
	must(r.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		sum := 0
		for _, n := range p {
			sum += n
		}
		return sum, nil
	})))
	must(r.Register("echo", rpc.Func(func(_ context.Context, p any) (any, error) { return p, nil })))
	must(r.Register("callMeBack", rpc.Func(func(ctx context.Context, p mulParams) (callbackResult, error) {
		peer := rpc.PeerFromContext(ctx)
		var res callbackResult
		if err := peer.Call(ctx, "whoami", nil, &res.Who); err != nil {
			return res, fmt.Errorf("whoami: %w", err)
		}
		if err := peer.Call(ctx, "mul", p, &res.Product); err != nil {
			return res, fmt.Errorf("mul: %w", err)
		}
		return res, nil
	})))
	must(r.Register("waitCancel", rpc.Func(func(ctx context.Context, _ any) (string, error) {
		if err := rpc.PeerFromContext(ctx).Notify(ctx, "started", nil); err != nil {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Second):
			return "not cancelled", nil
		}
	})))
	// count sends 1..n as partial results to a caller that asked for
	// them, then answers n.
	must(r.Register("count", rpc.Func(func(ctx context.Context, p countParams) (int, error) {
		for i := 1; i <= p.N; i++ {
			if err := rpc.Progress(ctx, i); err != nil {
				return 0, err
			}
		}
		return p.N, nil
	})))
	return r
}

type countParams struct {
	N int `json:"n"`
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// clientRouter serves the calls the server makes back: whoami and mul.
func clientRouter(name string) *rpc.Router {
	r := rpc.NewRouter()
	must(r.Register("whoami", rpc.Func(func(context.Context, any) (string, error) { return name, nil })))
	must(r.Register("mul", rpc.Func(func(_ context.Context, p mulParams) (int, error) { return p.A * p.B, nil })))
	return r
}

// listen returns a listener on 127.0.0.1 ("tcp") or on a Unix socket in
// a temporary directory ("unix").
func listen(t testing.TB, network string) net.Listener {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serve starts a server with opts on a new listener of network; cleanup
// closes the server and checks that Serve returned ErrServerClosed.
func serve(t testing.TB, network string, opts *stream.ServerOptions) (*stream.Server, net.Addr) {
	t.Helper()
	srv, err := stream.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t, network)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, stream.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return srv, ln.Addr()
}

// dial connects a client peer to addr, closed at cleanup.
func dial(t testing.TB, addr net.Addr, opts *stream.Options) *rpc.Peer {
	t.Helper()
	conn, err := net.Dial(addr.Network(), addr.String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := stream.NewPeer(conn, opts)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
