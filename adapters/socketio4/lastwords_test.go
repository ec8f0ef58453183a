package socketio4_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

// TestLastWords: notifications a client sends just before it closes (an
// event without an acknowledgement, and a JSON-RPC notification on the
// event) all reach the handler. The library queues each socket's packets
// for its event loop but reports a closed connection at once, from
// another goroutine: a "disconnect" can come before packets that arrived
// ahead of it have been handled.
func TestLastWords(t *testing.T) {
	const clients = 100
	notes := make(chan string, 2*clients)
	f := newFixture(t, socketio4.ServerOptions{
		Handler: testRouter(notes),
		OnConnect: func(p *rpc.Peer, _ *socket.Socket) {
			// The clients' cue to send (see open in testdata/node/common.mjs).
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = p.Notify(ctx, "hello", []string{"welcome"})
		},
	}, nil, nil)
	node(t, 60*time.Second, "lastwords.mjs", f.url, strconv.Itoa(clients))
	f.waitPeers(t, 0) // every peer has ended: its messages were handed over
	seen := make(map[string]bool)
	deadline := time.After(20 * time.Second)
	for len(seen) < 2*clients {
		select {
		case n := <-notes:
			seen[n] = true
		case <-deadline:
			var missing []string
			for i := range clients {
				for _, kind := range []string{"event", "rpc"} {
					if n := fmt.Sprintf("%s %d", kind, i); !seen[n] {
						missing = append(missing, n)
					}
				}
			}
			t.Fatalf("%d of %d notifications arrived; missing %v", len(seen), 2*clients, missing)
		}
	}
}
