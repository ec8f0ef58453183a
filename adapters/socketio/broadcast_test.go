package socketio_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	sio "github.com/googollee/go-socket.io"

	"github.com/parleyrpc/parley/adapters/socketio"
	"github.com/parleyrpc/parley/rpc"
)

// TestBroadcast: 200 node clients (half JSON, half CBOR) are connected;
// the server calls "whoami" on all of them with rpc.CallAll and a
// per-client timeout. Every answer comes back matched to its client, and
// the one client that never answers times out alone.
func TestBroadcast(t *testing.T) {
	const n, silent = 200, 17
	var names sync.Map // conn id -> the name the client gave in its handshake
	f := newFixture(t, socketio.ServerOptions{
		Accept: func(conn sio.Conn) ([]rpc.Option, error) {
			u := conn.URL()
			names.Store(conn.ID(), u.Query().Get("name"))
			return nil, nil
		},
	}, nil)

	nodeDone := make(chan string, 1)
	go func() {
		nodeDone <- node(t, 50*time.Second, "broadcast.mjs", f.url, strconv.Itoa(n), strconv.Itoa(silent))
	}()
	f.waitPeers(t, n)

	replies := rpc.CallAll[string](context.Background(), f.peers, "whoami", nil, 3*time.Second)
	if len(replies) != n {
		t.Fatalf("got %d replies, want %d", len(replies), n)
	}
	codecs := map[string]int{}
	for _, r := range replies {
		want, _ := names.Load(r.ID)
		codecs[r.Peer.Codec().Name()]++
		if want == "c-"+strconv.Itoa(silent) {
			if !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Errorf("silent client %s: got %q, %v; want a deadline error", r.ID, r.Result, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Result != want {
			t.Errorf("client %s (%v): got %q, %v", r.ID, want, r.Result, r.Err)
		}
	}
	if codecs["json"] != n/2 || codecs["cbor"] != n/2 {
		t.Errorf("codecs: %v", codecs)
	}

	// Closing the adapter disconnects every client; node then exits.
	_ = f.srv.Close()
	select {
	case out := <-nodeDone:
		var res struct{ Closed int }
		lastJSON(t, out, &res)
		if res.Closed != n {
			t.Errorf("node: %s", out)
		}
	case <-time.After(50 * time.Second):
		t.Fatal("node did not exit")
	}
	if f.peers.Len() != 0 {
		t.Errorf("%d peers left in the set after Close", f.peers.Len())
	}
}
