package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// hubNode is a node with a hub, whose clients' server-side peers serve the
// hub's methods.
type hubNode struct {
	node  *nats.Node
	hub   *hub.Hub
	peers *rpc.PeerSet
	route *rpc.Router
}

func startHubNodes(t *testing.T, count int) []*hubNode {
	t.Helper()
	srv := startNATS(t)
	var all []*hubNode
	for i := range count {
		hn := &hubNode{peers: new(rpc.PeerSet), route: rpc.NewRouter()}
		hn.node = startNode(t, srv.URL(), fmt.Sprint("h", i), hn.peers, nil)
		h, err := hn.node.NewHub(nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		if _, err := hn.node.NewHub(nil); err == nil {
			t.Fatal("a second hub on one node")
		}
		hn.hub = h
		h.Mount(hn.route)
		all = append(all, hn)
	}
	return all
}

// connectHub connects a client whose server-side peer serves the hub's
// methods; the client serves h.
func (hn *hubNode) connect(t *testing.T, id string, h rpc.Handler) client {
	t.Helper()
	a, b := rpc.Pipe()
	srv, err := rpc.NewPeer(a, rpc.WithHandler(hn.route))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := rpc.NewPeer(b, rpc.WithHandler(h))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cl.Close() })
	if _, err := hn.peers.Add(id, srv); err != nil {
		t.Fatal(err)
	}
	return client{id: id, server: srv, peer: cl}
}

type hubEvent struct {
	Topic string         `json:"topic"`
	Data  map[string]int `json:"data"`
}

// listener serves hub.event into a channel.
func listener() (rpc.Handler, chan hubEvent) {
	ch := make(chan hubEvent, 1024)
	r := rpc.NewRouter()
	r.Register(hub.EventMethod, rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		var e hubEvent
		if err := req.DecodeParams(&e); err != nil {
			return nil, err
		}
		ch <- e
		return nil, nil
	}))
	return r, ch
}

func TestHubPublishReachesEverySubscriberOfEveryNodeOnce(t *testing.T) {
	nodes := startHubNodes(t, 3)
	var chans []chan hubEvent
	for i, hn := range nodes {
		h, ch := listener()
		c := hn.connect(t, fmt.Sprint("sub", i), h)
		if err := hn.hub.Subscribe(c.server, "chat.*"); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // two matching patterns on one node: still one event
			if err := hn.hub.Subscribe(c.server, "chat.>"); err != nil {
				t.Fatal(err)
			}
		}
		chans = append(chans, ch)
	}
	// Interest reaches NATS a moment after Subscribe: probe until every
	// subscriber hears, then drain.
	for i, ch := range chans {
		eventually(t, 10*time.Second, fmt.Sprint("sub", i, " hears a probe"), func() bool {
			nodes[1].hub.Publish("chat.probe", map[string]int{"probe": 1})
			select {
			case <-ch:
				return true
			case <-time.After(20 * time.Millisecond):
				return false
			}
		})
	}
	for _, ch := range chans {
		for len(ch) > 0 {
			<-ch
		}
	}
	for k := range 20 {
		if _, err := nodes[k%3].hub.Publish("chat.lobby", map[string]int{"k": k}); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range chans {
		last := map[int]int{0: -1, 1: -1, 2: -1} // publishing node -> last k
		for got := 0; got < 20; {
			select {
			case e := <-ch:
				if e.Topic == "chat.probe" {
					continue // a late probe
				}
				k := e.Data["k"]
				if e.Topic != "chat.lobby" || k <= last[k%3] {
					t.Fatalf("sub%d: %+v after k=%d from that node (duplicate or out of order)", i, e, last[k%3])
				}
				last[k%3] = k
				got++
			case <-time.After(10 * time.Second):
				t.Fatalf("sub%d got %d of 20 events", i, got)
			}
		}
		select {
		case e := <-ch:
			if e.Topic != "chat.probe" {
				t.Fatalf("sub%d: an extra event %+v", i, e)
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestHubRoutedCallsReachAProcedureOnAnotherNode(t *testing.T) {
	nodes := startHubNodes(t, 3)
	started := make(chan struct{}, 1)
	cancelled := make(chan struct{}, 1)
	callee := rpc.NewRouter()
	callee.Register("add", rpc.Func(func(ctx context.Context, p []int) (int, error) { return p[0] + p[1], nil }))
	callee.Register("wait", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		cancelled <- struct{}{}
		return nil, ctx.Err()
	}))
	c := nodes[2].connect(t, "callee", callee)
	for _, name := range []string{"add", "wait"} {
		if err := nodes[2].hub.Register(c.server, name, hub.Single); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxFor(t, 20*time.Second)
	// From Go code on node 0, once the registration has reached NATS.
	eventually(t, 10*time.Second, "node 0 calls add on node 2", func() bool {
		var sum int
		err := nodes[0].hub.Call(ctx, "add", []int{2, 3}, &sum)
		return err == nil && sum == 5
	})
	// From a client of node 1, through hub.call.
	caller := nodes[1].connect(t, "caller", rpc.NewRouter())
	var sum int
	if err := caller.peer.Call(ctx, hub.MethodCall, map[string]any{"procedure": "add", "params": []int{40, 2}}, &sum); err != nil || sum != 42 {
		t.Fatalf("hub.call from a client: %d, %v", sum, err)
	}
	// No registrant anywhere.
	err := nodes[0].hub.Call(ctx, "nosuch", nil, nil)
	if !errors.Is(err, hub.ErrNoSuchProcedure) {
		t.Fatalf("unknown procedure: %v", err)
	}
	// The caller's cancellation reaches the callee on the other node.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- nodes[0].hub.Call(cctx, "wait", nil, nil) }()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the callee was not cancelled")
	}
	// The callee's loss ends the call at once.
	go func() { done <- nodes[0].hub.Call(ctx, "wait", nil, nil) }()
	<-started
	c.peer.Close()
	select {
	case err := <-done:
		if !errors.Is(err, hub.ErrCalleeGone) {
			t.Fatalf("callee gone: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end when the callee left")
	}
}
