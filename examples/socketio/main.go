// Command socketio adds Parley to a socket.io server that has events of
// its own ("chat", "echo"), without touching them. The server is
// github.com/zishang520/socket.io, for socket.io-client 4, with
// adapters/socketio4: the router's methods are events answered through
// the client's acknowledgement (the page's socket.emitWithAck("add", 2, 3)),
// and the server calls the page's socket.on("whoami", (question, ack) =>
// ack(...)), while the page's chat keeps using the server's own "chat"
// event.
//
//	cd examples/socketio && npm ci && cd -   # once: socket.io-client for the page
//	go run ./examples/socketio               # then open http://127.0.0.1:8082
//
// With -legacy the same application runs on go-socket.io v1.7.0 with
// adapters/socketio instead: that server speaks Engine.IO 3, so only
// socket.io-client 2.x connects, and JSON-RPC 2.0 travels on one more
// event, "rpc", both ways. Neither server serves the client script, so
// the program serves it from node_modules; it is never copied into the
// repository. The Go server runs without npm.
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
	legacy := flag.Bool("legacy", false, "serve go-socket.io v1.7.0 (socket.io-client 2, JSON-RPC on the \"rpc\" event) instead of zishang520/socket.io (socket.io-client 4)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *modules, *legacy, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
