package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/rpc"
)

//go:embed index.html
var page []byte

// clientScript is sockjs-client's browser build, inside node_modules.
const clientScript = "sockjs-client/dist/sockjs.min.js"

// Whoami is what a client answers when the server asks who it is.
type Whoami struct {
	Name      string `json:"name"`
	Transport string `json:"transport"` // the SockJS transport it got
}

// server is the RPC side of the program.
type server struct {
	out     io.Writer
	peers   rpc.PeerSet
	outMu   sync.Mutex
	stopped bool
}

func (s *server) printf(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if !s.stopped {
		fmt.Fprintf(s.out, format+"\n", args...)
	}
}

// run serves on addr until ctx ends: SockJS at /rpc, a health check at
// /healthz, the page at /, and sockjs-client from node_modules (modules,
// or found) at /vendor/sockjs.min.js.
func run(ctx context.Context, addr, modules string, out io.Writer) error {
	s := &server{out: out}
	routes := rpc.NewRouter()
	err := errors.Join(
		routes.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
			sum := 0
			for _, n := range p {
				sum += n
			}
			return sum, nil
		})),
		routes.Register("hello", rpc.Func(func(_ context.Context, p struct{ Name string }) (string, error) {
			return fmt.Sprintf("Hello, %s! The server's clock says %s.", p.Name, time.Now().Format("15:04:05")), nil
		})),
	)
	if err != nil {
		return err
	}
	srv, err := sockjs.NewServer(&sockjs.ServerOptions{
		Handler: routes,
		Peers:   &s.peers, // each session under its SockJS session id
		// Each new session: ask the client who it is. The peer is already
		// serving, and the hook runs on a goroutine of its own, so it may
		// wait for the answer; srv.Close waits for it.
		OnConnect: func(p *rpc.Peer, _ sockjs.Session) {
			id, _ := s.peers.ID(p) // the session id
			s.ask(id, p)
		},
	})
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/rpc/", srv.Handler("/rpc", nil)) // nil: sockjs.DefaultOptions(), same origin only
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "ok: %d session(s)\n", s.peers.Len())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the browser's console
	})
	script := findScript(modules)
	mux.HandleFunc("GET /vendor/sockjs.min.js", func(w http.ResponseWriter, r *http.Request) {
		if script == "" {
			http.Error(w, "sockjs-client is not installed: run npm ci in examples/sockjs", http.StatusNotFound)
			return
		}
		http.ServeFile(w, r, script)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s.printf("Parley over SockJS on http://%s: the page at /, SockJS at /rpc, health at /healthz", ln.Addr())
	if script == "" {
		s.printf("note: sockjs-client not found; for the page, run `npm ci` in examples/sockjs and restart (Go clients and /healthz work without it)")
	}

	select {
	case err = <-served:
	case <-ctx.Done():
	}
	srv.Close() // ends every session; the whoami calls still waiting fail, and their hooks return
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil {
		err = serr
	}
	s.printf("sockjs: stopped")
	s.outMu.Lock()
	s.stopped = true
	s.outMu.Unlock()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ask calls the client's whoami and prints the answer.
func (s *server) ask(id string, p *rpc.Peer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	who, err := rpc.Call[Whoami](ctx, p, "whoami", nil)
	if err != nil {
		s.printf("session %s: whoami failed: %v", id, err)
		return
	}
	s.printf("session %s is %q over %s", id, who.Name, who.Transport)
}

// findScript returns the path of sockjs-client's browser build, or "".
func findScript(modules string) string {
	dirs := []string{modules}
	if modules == "" {
		dirs = []string{"node_modules", filepath.Join("examples", "sockjs", "node_modules")}
	}
	for _, d := range dirs {
		p := filepath.Join(d, clientScript)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
