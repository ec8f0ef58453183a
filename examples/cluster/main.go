// Command cluster runs three Parley nodes on this machine, joined by an
// embedded NATS server, and shows calls crossing nodes: a client connected
// to one node is called from another, and a call from every node gathers
// every client's answer.
//
//	go run ./examples/cluster
//	curl 'http://127.0.0.1:8091/who'              # who is connected where, as node 1 sees it
//	curl 'http://127.0.0.1:8092/call?id=alice'    # node 2 calls alice (on node 1)
//	curl 'http://127.0.0.1:8093/all'              # node 3 calls every client of every node
//
// Each node serves a page at / (http://127.0.0.1:8091/?name=me): a
// browser client of that node that lists every client of every node and
// asks its node to call any of them, across nodes through NATS.
//
// Clients connect with WebSocket to ws://127.0.0.1:809N/ws?name=NAME and
// answer "whoami"; they may call their node's "who" and "call" ({"id"}). The program starts three demo clients of its own
// (alice, bob and carol, one per node) unless -demo=false.
//
// One process holds everything here, NATS included; in production each
// node runs on its own machine and all connect to a NATS server or
// cluster of their own (see adapters/nats).
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
	base := flag.Int("port", 8091, "the first node's port; the others take the next ones (0: any free ports)")
	demo := flag.Bool("demo", true, "connect three demo clients, one per node, and call across nodes every few seconds")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *base, *demo, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
