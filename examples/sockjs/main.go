// Command sockjs serves a JSON-RPC 2.0 endpoint over SockJS next to the
// ordinary routes of an http.ServeMux (a health check, a static page).
// The page, and any other sockjs-client, calls the server ("add",
// "hello"); the server calls each new client back ("whoami").
//
//	cd examples/sockjs && npm ci && cd -   # once: sockjs-client for the page
//	go run ./examples/sockjs               # then open http://127.0.0.1:8083
//
// The Go server runs without npm; only the browser page needs
// sockjs-client, which is served from node_modules, never copied into the
// repository.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "address to listen on")
	modules := flag.String("modules", "", `the node_modules folder holding sockjs-client (default: "node_modules" or "examples/sockjs/node_modules", whichever exists)`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *modules, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
