// Command chat is Parley's demo: a chat room whose web page calls the
// server ("join", "say") and answers the server's calls ("clientInfo": the
// browser's local time and user agent), over one WebSocket. The page is
// plain JavaScript with no library and no build step, embedded in the
// binary, so the demo needs nothing beyond Go:
//
//	go run ./examples/chat
//
// then open http://127.0.0.1:8080 in two browser tabs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the chat room on addr until ctx ends, printing what happens
// to out.
func run(ctx context.Context, addr string, out io.Writer) error {
	room, err := newRoom(func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) })
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		room.Close()
		return err
	}
	hs := &http.Server{Handler: room, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(out, "Parley chat demo on http://%s (Ctrl-C to stop)\n", ln.Addr())

	select {
	case err = <-served: // the listener failed
	case <-ctx.Done():
	}
	// The WebSockets first: once upgraded they are no longer the HTTP
	// server's to close.
	room.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(out, "chat: stopped")
		return nil
	}
	return err
}
