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
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

var (
	//go:embed index.html
	page []byte
	//go:embed legacy.html
	legacyPage []byte
)

// The client's browser build inside node_modules: socket.io-client 4, and
// 2 (installed under the alias socket.io-client-v2) for -legacy.
const (
	clientScript       = "socket.io-client/dist/socket.io.min.js"
	legacyClientScript = "socket.io-client-v2/dist/socket.io.js"
)

// run serves on addr until ctx ends: socket.io at /socket.io/, the page at
// /, and socket.io-client from node_modules (modules, or found) at
// /vendor/socket.io.js. With legacy, the socket.io server is go-socket.io
// (socket.io-client 2) instead of zishang520/socket.io (4).
func run(ctx context.Context, addr, modules string, legacy bool, out io.Writer) error {
	p := &printer{out: out}
	defer p.silence()
	start, html, script, kind := startModern, page, clientScript, "zishang520/socket.io, for socket.io-client 4"
	if legacy {
		start, html, script, kind = startLegacy, legacyPage, legacyClientScript, "go-socket.io, for socket.io-client 2"
	}
	sio, stop, err := start(p)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", sio)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(html)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the browser's console
	})
	found := findScript(modules, script)
	mux.HandleFunc("GET /vendor/socket.io.js", func(w http.ResponseWriter, r *http.Request) {
		if found == "" {
			http.Error(w, "socket.io-client is not installed: run npm ci in examples/socketio", http.StatusNotFound)
			return
		}
		http.ServeFile(w, r, found)
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		stop()
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- hs.Serve(ln) }()
	p.printf("Parley on socket.io (%s) at http://%s: the page at /, socket.io at /socket.io/", kind, ln.Addr())
	if found == "" {
		p.printf("note: socket.io-client not found; for the page, run `npm ci` in examples/socketio and restart")
	}

	select {
	case err = <-httpDone:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if legacy {
		// go-socket.io: no new handshakes first, then its own order.
		if serr := hs.Shutdown(sctx); err == nil {
			err = serr
		}
		stop()
	} else {
		// zishang520 first: it ends its long polls, which the HTTP
		// server's Shutdown would otherwise wait for.
		stop()
		if serr := hs.Shutdown(sctx); err == nil {
			err = serr
		}
	}
	p.printf("socketio: stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// startModern starts the zishang520/socket.io server with Parley attached
// and returns its handler for /socket.io/ and the function that stops it.
func startModern(p *printer) (http.Handler, func(), error) {
	a := &app{io: socket.NewServer(nil, nil), printer: p}
	a.registerEvents()
	rpcsrv, err := a.addParley()
	if err != nil {
		a.io.Close(nil)
		return nil, nil, err
	}
	stop := func() {
		rpcsrv.Close() // the peers end, OnConnect calls return
		done := make(chan struct{})
		a.io.Close(func(error) { close(done) })
		<-done
	}
	return a.io.ServeHandler(nil), stop, nil
}

// findScript returns the path of the client's browser build, or "".
func findScript(modules, script string) string {
	dirs := []string{modules}
	if modules == "" {
		dirs = []string{"node_modules", filepath.Join("examples", "socketio", "node_modules")}
	}
	for _, d := range dirs {
		p := filepath.Join(d, script)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
