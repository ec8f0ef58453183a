package websocket_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// TestIdleGoroutines: an idle connection costs one goroutine on each side
// (its read loop); keepalive runs on timers.
func TestIdleGoroutines(t *testing.T) {
	const n = 20
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t), PingInterval: 20 * time.Millisecond})
	before := runtime.NumGoroutine()
	clients := make([]*rpc.Peer, n)
	for i := range clients {
		clients[i] = dial(t, ts.url, &websocket.DialOptions{PingInterval: 20 * time.Millisecond})
		if err := clients[i].Call(testCtx(t), "add", []int{1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // a few pings
	// Timers' callbacks run briefly on their own goroutines; take the
	// least of a few samples.
	least := 1 << 30
	for range 10 {
		least = min(least, runtime.NumGoroutine()-before)
		time.Sleep(3 * time.Millisecond)
	}
	t.Logf("%d idle connections: %d goroutines more, both ends in this process", n, least)
	if least > 2*n+2 {
		t.Fatalf("%d idle connections cost %d goroutines; want at most one per end", n, least)
	}
}
