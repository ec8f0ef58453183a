package sockjs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// The server calls every connected client at once with rpc.CallAll: 200
// Go clients on the raw websocket endpoints (JSON and CBOR mixed in one
// PeerSet) and a few node sockjs-client clients. Every answer comes back
// matched to its client, and the one client that never answers times out
// alone.
func TestBroadcast(t *testing.T) {
	const (
		goClients  = 200
		silentName = "go-silent"
		perClient  = 3 * time.Second
	)
	e := newEnv(t, nil)

	// Node is optional here (the Go clients make the scale); without it
	// this subtest is skipped and the broadcast runs with Go clients only.
	var nodeDir string
	t.Run("node-setup", func(t *testing.T) { nodeDir = nodetest.Setup(t, "testdata/node") })
	type nodeClient struct{ transport, codec string }
	var nodes []nodeClient
	if nodeDir != "" {
		nodes = []nodeClient{{"websocket", "json"}, {"xhr-streaming", "json"}, {"xhr-polling", "json"}, {"websocket", "cbor"}}
	}

	silent := rpc.NewRouter()
	silent.Register("whoami", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		<-ctx.Done() // until the server gives up and cancels
		return nil, ctx.Err()
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		clients []*goClient
		dialErr error
		sem     = make(chan struct{}, 16)
	)
	for i := range goClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			prefix, name, h := "/rpc", fmt.Sprintf("go-%d", i), rpc.Handler(nil)
			if i%4 == 0 {
				prefix = "/cbor"
			}
			if i == 7 {
				name, h = silentName, silent
			}
			c, err := e.dialClient(ctx, prefix, name, h)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				dialErr = errors.Join(dialErr, err)
				return
			}
			clients = append(clients, c)
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range clients {
			c.peer.Close()
		}
	})
	if dialErr != nil {
		t.Fatal(dialErr)
	}

	// The node clients serve until the servers close; they run beside the
	// broadcast, not as parallel subtests (-parallel may be as low as 2).
	var nodesDone sync.WaitGroup
	for _, n := range nodes {
		name := "node-" + n.transport + "-" + n.codec
		prefix := map[string]string{"json": "/rpc", "cbor": "/cbor"}[n.codec]
		nodesDone.Go(func() {
			nodetest.Run(ctx, goroutineTB{t}, nodeDir, "client.js", e.hs.URL+prefix, n.transport, n.codec, name, "serve")
		})
	}
	defer nodesDone.Wait()
	defer func() { // ends the node clients, whatever happens below
		e.json.Close()
		e.cbor.Close()
	}()

	want := goClients + len(nodes)
	e.waitFor(t, 30*time.Second, fmt.Sprintf("%d clients to say hello", want), func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return len(e.names) == want
	})
	if n := e.peers.Len(); n != want {
		t.Fatalf("%d peers in the set; want %d", n, want)
	}

	replies := rpc.CallAll[string](ctx, e.peers, "whoami", nil, perClient)
	if len(replies) != want {
		t.Fatalf("%d replies; want %d", len(replies), want)
	}
	seen := make(map[string]bool)
	for _, r := range replies {
		name := e.name(r.ID)
		if name == "" {
			t.Errorf("reply from unknown peer %q", r.ID)
			continue
		}
		seen[name] = true
		if name == silentName {
			if !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Errorf("silent client: %q, %v; want a timeout", r.Result, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Result != name {
			t.Errorf("client %s (%s): %q, %v", name, r.ID, r.Result, r.Err)
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct clients answered; want %d", len(seen), want)
	}
}

// goroutineTB lets nodetest.Run report from a goroutine other than the
// test's: its Fatalf only marks the test failed (Run returns right after).
type goroutineTB struct{ testing.TB }

func (g goroutineTB) Fatalf(format string, args ...any) {
	g.TB.Helper()
	g.TB.Errorf(format, args...)
}
