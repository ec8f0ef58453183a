package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// inParallel runs do(i) for every i below n, workers at a time, and
// returns how many returned nil and the errors of the rest.
func inParallel(n, workers int, do func(i int) error) (int64, []error) {
	var (
		ok   atomic.Int64
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := do(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return ok.Load(), errs
}

// callEveryone has node n call "whoami" on every id, workers at a time,
// and returns how many answered right and the errors of the rest. An
// answer from the wrong client fails the test.
func callEveryone(t *testing.T, n *nats.Node, ids []string, workers int, timeout time.Duration) (int64, []error) {
	return inParallel(len(ids), workers, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var got string
		if err := n.Call(ctx, ids[i], "whoami", nil, &got); err != nil {
			return fmt.Errorf("%s → %s: %w", n.Name(), ids[i], err)
		}
		if got != ids[i] {
			t.Errorf("%s → %s: answered by %q", n.Name(), ids[i], got)
		}
		return nil
	})
}

// routedToken is the params and the answer of a routed call in the load
// test: a token no other call carries, and the id of the client that ran
// it.
type routedToken struct {
	Token string `json:"token"`
	By    string `json:"by,omitempty"`
}

// loadClient serves whoami and friends (see whoami) and the procedure
// "who.<id>", which answers a routed call with its token and the client's
// id. Every token it runs goes in ran; one it ran before counts in twice.
func loadClient(id string, ran *sync.Map, twice *atomic.Int64) rpc.Handler {
	r := whoami(id).(*rpc.Router)
	r.Register("who."+id, rpc.Func(func(ctx context.Context, p routedToken) (routedToken, error) {
		if _, dup := ran.LoadOrStore(p.Token, id); dup {
			twice.Add(1)
		}
		return routedToken{Token: p.Token, By: id}, nil
	}))
	return r
}

// routedCall is a client calling, through its own node's hub, the
// procedure of another client.
type routedCall struct {
	from   client
	target string // the callee's id; its procedure is "who.<id>"
}

// callThrough makes each routed call once, workers at a time, each with a
// token of its own (round keeps tokens of separate rounds apart), and
// returns how many came back right and the errors of the rest. An answer
// with another call's token, or from another client, fails the test.
func callThrough(t *testing.T, calls []routedCall, round, workers int, timeout time.Duration) (int64, []error) {
	return inParallel(len(calls), workers, func(i int) error {
		c := calls[i]
		token := fmt.Sprintf("%s>%s#%d", c.from.id, c.target, round)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var got routedToken
		err := c.from.peer.Call(ctx, hub.MethodCall, map[string]any{"procedure": "who." + c.target, "params": routedToken{Token: token}}, &got)
		if err != nil {
			return fmt.Errorf("%s → %s through the hub: %w", c.from.id, c.target, err)
		}
		if got.Token != token || got.By != c.target {
			t.Errorf("%s → %s through the hub, token %s: answered %+v", c.from.id, c.target, token, got)
		}
		return nil
	})
}

// routedEnd reports whether err is one of the ways a routed call may end
// while a node dies and NATS restarts: the hub's answers (no registrant
// reachable, the callee's node gone, the hub's or the node's deadline,
// NATS unreachable: a server error) or the caller's own deadline.
// It also names the kind, for the test's log.
func routedEnd(err error) (string, bool) {
	var e *rpc.Error
	if errors.As(err, &e) && rpc.IsRemote(err) {
		switch e.Code {
		case hub.CodeNoSuchProcedure:
			return "no such procedure", true
		case hub.CodeCalleeGone:
			return "callee gone", true
		case hub.CodeTimeout:
			return "hub timeout", true
		case rpc.CodeServerError:
			if strings.Contains(e.Message, nats.ErrUnreachable.Error()) {
				return "unreachable", true
			}
		}
		return fmt.Sprint(e.Code), false
	}
	return "caller's deadline", errors.Is(err, context.DeadlineExceeded)
}

func TestLoadThreeNodesThreeThousandClients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const perNode = 1000
	srv := startNATS(t)
	// The bounds of the waits below are generous: under -race on a machine
	// busy with other jobs, this test has taken three times its usual 20 s.
	var (
		nodes   []*nats.Node
		ids     []string
		clients []client
		ran     sync.Map // routed calls' tokens, as their callees ran them
		twice   atomic.Int64
	)
	// Node 2 gets a connection of the test's, so that the test can kill it.
	ncKilled := dial(t, srv.URL())
	for i := range 3 {
		set := new(rpc.PeerSet)
		// Under -race on a busy machine a node can stall for a good part
		// of a second: a heartbeat of 500 ms drops silent nodes after
		// 1.5 s of silence, not sooner.
		opts := &nats.Options{Heartbeat: 500 * time.Millisecond}
		if i == 2 {
			opts.Conn = ncKilled
		}
		n := startNode(t, srv.URL(), fmt.Sprint("n", i), set, opts)
		nodes = append(nodes, n)
		// Each node has a hub; each client registers its procedure
		// "who.<id>" there, and calls others' through it.
		h, err := n.NewHub(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hn := &hubNode{node: n, hub: h, peers: set, route: rpc.NewRouter()}
		h.Mount(hn.route)
		for j := range perNode {
			id := fmt.Sprintf("n%d-c%d", i, j)
			c := hn.connect(t, id, loadClient(id, &ran, &twice))
			if err := h.Register(c.server, "who."+id, hub.Single); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			clients = append(clients, c)
		}
	}
	for _, n := range nodes {
		eventually(t, time.Minute, "every node sees every client", sees(n, 3*perNode))
	}
	// Every client calls, through its hub, a client of each other node.
	total := len(clients)
	var routed []routedCall
	for i, c := range clients {
		for _, k := range []int{perNode, 2 * perNode} {
			routed = append(routed, routedCall{from: c, target: ids[(i+k)%total]})
		}
	}
	// A registration reaches NATS a moment after Register: wait until
	// node 0's clients reach every procedure of nodes 1 and 2 (every
	// node's interest goes out in the same order, so the others are
	// as far).
	var probes []routedCall
	for _, target := range ids[perNode:] {
		probes = append(probes, routedCall{from: clients[0], target: target})
	}
	attempt := 1_000_000 // rounds of their own: tokens never repeat
	eventually(t, time.Minute, "every procedure registered across the cluster", func() bool {
		attempt++
		ok, _ := callThrough(t, probes, attempt, 64, 20*time.Second)
		return ok == int64(len(probes))
	})
	ran.Clear()

	// Every node calls every client, and every client calls through the
	// hub a client on each other node, at the same time: nothing lost,
	// duplicated or mismatched.
	start := time.Now()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, errs := callEveryone(t, n, ids, 64, 20*time.Second)
			if ok != int64(len(ids)) || len(errs) > 0 {
				t.Errorf("%s: %d of %d answered; errors: %v", n.Name(), ok, len(ids), errs[:min(len(errs), 5)])
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		ok, errs := callThrough(t, routed, 0, 64, 20*time.Second)
		if ok != int64(len(routed)) || len(errs) > 0 {
			t.Errorf("routed calls: %d of %d answered; errors: %v", ok, len(routed), errs[:min(len(errs), 5)])
		}
	}()
	wg.Wait()
	ranCount := 0
	ran.Range(func(_, _ any) bool { ranCount++; return true })
	if ranCount != len(routed) || twice.Load() != 0 {
		t.Errorf("routed calls: %d tokens ran, want %d; %d ran twice", ranCount, len(routed), twice.Load())
	}
	t.Logf("%d calls from 3 nodes and %d routed calls between nodes in %v", 3*len(ids), len(routed), time.Since(start))
	if t.Failed() {
		return
	}
	// CallAll from each node: one reply per client.
	for _, n := range nodes {
		replies := nats.CallAll[string](context.Background(), n, "whoami", nil, 20*time.Second)
		seen := make(map[string]bool, len(replies))
		for _, r := range replies {
			if seen[r.ID] || r.Err != nil || r.Result != r.ID {
				t.Fatalf("%s CallAll: %+v (seen before: %v)", n.Name(), r, seen[r.ID])
			}
			seen[r.ID] = true
		}
		if len(seen) != len(ids) {
			t.Fatalf("%s CallAll: %d replies, want %d", n.Name(), len(seen), len(ids))
		}
	}

	// Under load, node 2 dies and the NATS server restarts: every call
	// ends, with its answer or an error, and the survivors heal.
	var (
		answered atomic.Int64
		failed   atomic.Int64
	)
	load := make(chan struct{})
	stopLoad := sync.OnceFunc(func() { close(load) })
	// Should the test stop early, the load stops before the nodes close
	// (cleanups run last registered first).
	t.Cleanup(func() { stopLoad(); wg.Wait() })
	for _, n := range nodes[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; ; round++ {
				ok, errs := callEveryone(t, n, ids, 64, 5*time.Second)
				answered.Add(ok)
				failed.Add(int64(len(errs)))
				for _, err := range errs {
					if !errors.Is(err, nats.ErrUnreachable) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, rpc.ErrConnectionLost) {
						t.Errorf("unexpected error: %v", err)
					}
				}
				select {
				case <-load:
					return
				default:
				}
			}
		}()
	}
	// Clients call through the hub all along: each call ends, with its
	// answer or one of the errors a cut may give, within its deadline.
	var (
		routedOK, routedFailed atomic.Int64
		routedErrs             sync.Map // kind of error -> *atomic.Int64
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := 1; ; round++ {
			ok, errs := callThrough(t, routed, round, 64, 5*time.Second)
			routedOK.Add(ok)
			routedFailed.Add(int64(len(errs)))
			for _, err := range errs {
				kind, ok := routedEnd(err)
				if !ok {
					t.Errorf("routed call: unexpected error: %v", err)
				}
				n, _ := routedErrs.LoadOrStore(kind, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}
			select {
			case <-load:
				return
			default:
			}
		}
	}()
	eventually(t, time.Minute, "load runs", func() bool { return answered.Load() > 1000 && routedOK.Load() > 1000 })
	ncKilled.Close()
	eventually(t, time.Minute, "load runs on", func() bool { return answered.Load() > 2000 })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the survivors see each other's clients, and only those",
		func() bool { return len(nodes[0].IDs()) == 2*perNode && len(nodes[1].IDs()) == 2*perNode })
	stopLoad()
	wg.Wait()
	kinds := map[string]int64{}
	routedErrs.Range(func(k, v any) bool { kinds[k.(string)] = v.(*atomic.Int64).Load(); return true })
	t.Logf("under chaos: %d answered, %d ended with an error; routed: %d answered, %d ended with an error %v",
		answered.Load(), failed.Load(), routedOK.Load(), routedFailed.Load(), kinds)
	if twice.Load() != 0 {
		t.Errorf("%d routed calls ran twice", twice.Load())
	}

	// Healed: the survivors reach each other's clients again.
	for _, n := range nodes[:2] {
		ok, errs := callEveryone(t, n, ids[:2*perNode], 64, 20*time.Second)
		if ok != 2*perNode {
			t.Errorf("%s after healing: %d of %d answered; errors: %v", n.Name(), ok, 2*perNode, errs[:min(len(errs), 5)])
		}
	}
	// And through their hubs, to each other's clients.
	var survivors []routedCall
	for i, c := range clients[:2*perNode] {
		survivors = append(survivors, routedCall{from: c, target: ids[(i+perNode)%(2*perNode)]})
	}
	ok, errs := callThrough(t, survivors, -1, 64, 20*time.Second)
	if ok != int64(len(survivors)) {
		t.Errorf("routed calls after healing: %d of %d answered; errors: %v", ok, len(survivors), errs[:min(len(errs), 5)])
	}
	if twice.Load() != 0 {
		t.Errorf("%d routed calls ran twice", twice.Load())
	}
}
