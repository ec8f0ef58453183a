// Command codecs calls one service over WebSocket twice, once with the
// JSON codec and once with CBOR, switched by one option
// (websocket.DialOptions.Codec), and prints the size of every request and
// response side by side. The sizes are measured on the server's socket:
// its listener is tapped and every WebSocket frame recorded.
//
//	go run ./examples/codecs          # compare, then exit
//	go run ./examples/codecs -serve   # compare, then keep serving until Ctrl-C
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

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8084", "address to listen on")
	serve := flag.Bool("serve", false, "keep serving the service after the comparison, until Ctrl-C")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout, *serve); err != nil {
		log.Fatal(err)
	}
}

// run serves the service on addr, compares the codecs against it, and
// returns; with serve set it then serves until ctx ends.
func run(ctx context.Context, addr string, out io.Writer, serve bool) error {
	service, err := newService()
	if err != nil {
		return err
	}
	// A WebSocket server offers JSON and CBOR by default; each client's
	// subprotocol picks one.
	ws, err := websocket.NewServer(&websocket.ServerOptions{
		Handler: service,
		OnConnect: func(p *rpc.Peer, r *http.Request) {
			fmt.Fprintf(out, "server: a client connected speaking %s\n", p.Codec().Name())
		},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		ws.Close()
		return err
	}
	tap := newWiretap(ln)
	mux := http.NewServeMux()
	mux.Handle("/rpc", ws)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(tap) }()
	url := fmt.Sprintf("ws://%s/rpc", ln.Addr())
	fmt.Fprintf(out, "Parley codecs: one service at %s (http://%s), called with each codec\n", url, ln.Addr())

	err = compare(ctx, url, tap, out)
	tap.stop()
	if err == nil && serve {
		fmt.Fprintf(out, "\nserving %s (either codec) until Ctrl-C\n", url)
		select {
		case err = <-served:
		case <-ctx.Done():
		}
	}

	ws.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil {
		err = serr
	}
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(out, "codecs: stopped")
		return nil
	}
	return err
}
