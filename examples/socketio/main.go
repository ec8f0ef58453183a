// Command socketio adds Parley to a go-socket.io server that has events of
// its own ("chat", "echo"), without touching them: JSON-RPC 2.0 travels on
// one more event ("rpc"). The page calls the server ("add", "hello") and
// the server calls the page ("whoami"), while the page's chat keeps using
// the server's own "chat" event.
//
//	cd examples/socketio && npm ci && cd -   # once: socket.io-client 2 for the page
//	go run ./examples/socketio               # then open http://127.0.0.1:8082
//
// go-socket.io v1.7.0 speaks Engine.IO 3: only socket.io-client 2.x
// connects (3.x and 4.x are refused), and it does not serve the client
// script itself, so the program serves it from node_modules; it is never
// copied into the repository. The Go server runs without npm.
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
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on")
	modules := flag.String("modules", "", `the node_modules folder holding socket.io-client (default: "node_modules" or "examples/socketio/node_modules", whichever exists)`)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *modules, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
