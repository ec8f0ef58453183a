package socketio4_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/internal/hostile"
	"github.com/parleyrpc/parley/rpc"
)

// TestLoad: 1,000 socket.io-client 4 sockets (300 under -race) in one node process (one
// open file each, far below 20,000), calls both ways at once: each client
// calls the router, the server calls each client; nothing is lost.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 clients: not in -short")
	}
	clients, calls := 1000, 5
	if hostile.RaceEnabled {
		// The race detector slows everything about tenfold; 1,000 run
		// without it (go test -run TestLoad).
		clients = 300
	}
	var serverOK atomic.Int32
	r := testRouter(nil)
	sopts := serverOpts()
	sopts.SetPingInterval(10 * time.Second) // a loaded machine must not drop idle sockets
	sopts.SetPingTimeout(20 * time.Second)
	sopts.SetConnectTimeout(2 * time.Minute)
	f := newFixture(t, socketio4.ServerOptions{
		Handler: r,
		OnConnect: func(p *rpc.Peer, _ *socket.Socket) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for k := range calls {
				if n, err := rpc.Call[int](ctx, p, "mul", []int{k, 3}); err == nil && n == 3*k {
					serverOK.Add(1)
				}
			}
			_ = p.Notify(ctx, "bye", nil) // the client leaves once its own calls are back too
		},
	}, sopts, nil)
	var res struct{ OK, Answered int }
	lastJSON(t, node(t, 4*time.Minute, "load.mjs", f.url, strconv.Itoa(clients), strconv.Itoa(calls)), &res)
	if res.OK != clients*calls || int(serverOK.Load()) != clients*calls || res.Answered != clients*calls {
		t.Errorf("client calls ok %d, server calls ok %d, answered %d; want %d each", res.OK, serverOK.Load(), res.Answered, clients*calls)
	}
}
