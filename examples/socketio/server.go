package main

import (
	"context"
	_ "embed"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	sio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/websocket"
)

//go:embed index.html
var page []byte

// clientScript is socket.io-client 2's browser build, inside node_modules.
const clientScript = "socket.io-client/dist/socket.io.js"

// run serves on addr until ctx ends: socket.io at /socket.io/, the page at
// /, and socket.io-client from node_modules (modules, or found) at
// /vendor/socket.io.js.
func run(ctx context.Context, addr, modules string, out io.Writer) error {
	// The websocket transport only: go-socket.io answers a POST sent
	// during a polling-to-websocket upgrade with 400, and an abandoned
	// polling handshake stays in its table for good.
	a := &app{
		io:  sio.NewServer(&engineio.Options{Transports: []transport.Transport{websocket.Default}}),
		out: out,
	}
	a.registerEvents()
	var asking sync.WaitGroup
	rpcsrv, err := addParley(a, &asking)
	if err != nil {
		return err
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = a.io.Serve()
	}()

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", a.io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the browser's console
	})
	script := findScript(modules)
	mux.HandleFunc("GET /vendor/socket.io.js", func(w http.ResponseWriter, r *http.Request) {
		if script == "" {
			http.Error(w, "socket.io-client is not installed: run npm ci in examples/socketio", http.StatusNotFound)
			return
		}
		http.ServeFile(w, r, script)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		rpcsrv.Close()
		a.io.Close()
		<-served
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(ln) }()
	a.printf("Parley on socket.io at http://%s: the page at /, socket.io at /socket.io/ (events chat, echo, and rpc)", ln.Addr())
	if script == "" {
		a.printf("note: socket.io-client not found; for the page, run `npm ci` in examples/socketio and restart")
	}

	select {
	case err = <-httpDone:
	case <-ctx.Done():
	}
	// The order go-socket.io needs: no new handshakes, then close the
	// connections, let its sessions drain, and only then close it (a
	// handshake completing after its Close would panic).
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil {
		err = serr
	}
	rpcsrv.Close()
	for a.io.Count() > 0 && sctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	a.io.Close()
	<-served
	asking.Wait()
	a.printf("socketio: stopped")
	a.silence()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// findScript returns the path of socket.io-client's browser build, or "".
func findScript(modules string) string {
	dirs := []string{modules}
	if modules == "" {
		dirs = []string{"node_modules", filepath.Join("examples", "socketio", "node_modules")}
	}
	for _, d := range dirs {
		p := filepath.Join(d, clientScript)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
