// Command routed shows routed calls through a hub: a device (a Go client
// here; any JSON-RPC 2.0 client would do) registers procedures with the
// server, and a web page calls them through the server, with no Parley
// code in the page:
//
//	go run ./examples/routed
//
// then open http://127.0.0.1:8080 and press the buttons.
package main

import (
	"context"
	_ "embed"
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
	"github.com/parleyrpc/parley/rpc/hub"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Reading is what device.temperature answers.
type Reading struct {
	Device  string  `json:"device"`
	Celsius float64 `json:"celsius"`
}

// run serves the hub and the page on addr, connects the device, and stops
// when ctx ends, printing what happens to out.
func run(ctx context.Context, addr string, out io.Writer) error {
	h, err := hub.New(nil)
	if err != nil {
		return err
	}
	defer h.Close()
	routes := rpc.NewRouter()
	if err := h.Mount(routes); err != nil {
		return err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		return err
	}
	defer ws.Close()
	mux := http.NewServeMux()
	mux.Handle("/rpc", ws)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(out, "Parley routed calls demo on http://%s (Ctrl-C to stop)\n", ln.Addr())

	dev, err := connectDevice(ctx, "ws://"+ln.Addr().String()+"/rpc", "thermo-1", out)
	if err == nil {
		defer dev.Close()
		select {
		case err = <-served:
		case <-ctx.Done():
		}
	}
	ws.Close() // the WebSockets first: once upgraded they are not the HTTP server's
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(out, "routed: stopped")
		return nil
	}
	return err
}

// connectDevice dials the hub as a device named name and registers its
// two procedures: device.temperature, and device.scan, which reports
// its progress with partial results.
func connectDevice(ctx context.Context, url, name string, out io.Writer) (*rpc.Peer, error) {
	methods := rpc.NewRouter()
	methods.Register("device.temperature", rpc.Func(func(context.Context, any) (Reading, error) {
		fmt.Fprintf(out, "%s: asked for the temperature\n", name)
		return Reading{Device: name, Celsius: 21.5}, nil
	}))
	methods.Register("device.scan", rpc.Func(func(ctx context.Context, p struct {
		Steps int `json:"steps"`
	}) (string, error) {
		if p.Steps < 1 || p.Steps > 10 {
			return "", &rpc.Error{Code: rpc.CodeInvalidParams, Message: "1 to 10 steps, please"}
		}
		for i := 1; i <= p.Steps; i++ {
			if err := rpc.Progress(ctx, fmt.Sprintf("%d/%d", i, p.Steps)); err != nil {
				return "", err
			}
		}
		return name + ": scan done", nil
	}))
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dev, err := websocket.Dial(dctx, url, &websocket.DialOptions{Handler: methods})
	if err != nil {
		return nil, err
	}
	for _, p := range []string{"device.temperature", "device.scan"} {
		if err := dev.Call(dctx, hub.MethodRegister, map[string]string{"procedure": p}, nil); err != nil {
			dev.Close()
			return nil, err
		}
	}
	fmt.Fprintf(out, "%s registered device.temperature and device.scan\n", name)
	return dev, nil
}
