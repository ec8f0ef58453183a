package bench

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/internal/natsserver"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// The cluster's benchmarks: three nodes joined by an embedded NATS server,
// each with its share of clients. Clients are rpc.Pipe peers (in memory,
// no file descriptors), so 30,000 fit in one process; what is measured is
// the cluster's own cost (NATS over loopback TCP between nodes), not the
// clients' links. The clients' side runs in the same process, on the same
// two cores and in the same heap: each call's figure includes the client
// decoding the request, running add and answering. MeasureClusterFanout
// (cluster.go) is the same gather with every node in a process of its own
// and real WebSocket clients in others.

type benchCluster struct {
	srv   *natsserver.Server
	nodes []*nats.Node
	sets  []*rpc.PeerSet
	hubs  []*hub.Hub
	peers []*rpc.Peer
}

func startCluster(b *testing.B, perNode int, withHub bool) *benchCluster {
	b.Helper()
	srv, err := natsserver.Start()
	if err != nil {
		b.Fatal(err)
	}
	c := &benchCluster{srv: srv}
	b.Cleanup(c.close)
	for i := range 3 {
		set := new(rpc.PeerSet)
		c.sets = append(c.sets, set)
		n, err := nats.NewNode(set, &nats.Options{URL: srv.URL(), Name: fmt.Sprint("n", i), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
		var h *hub.Hub
		if withHub {
			if h, err = n.NewHub(nil); err != nil {
				b.Fatal(err)
			}
			c.hubs = append(c.hubs, h)
		}
		for j := range perNode {
			srvEnd, cl := pipePair(b, addRouter(false))
			c.peers = append(c.peers, srvEnd, cl)
			if _, err := set.Add(fmt.Sprintf("n%d-c%d", i, j), srvEnd); err != nil {
				b.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range c.nodes {
		for len(n.IDs()) != 3*perNode {
			if time.Now().After(deadline) {
				b.Fatalf("%s sees %d clients of %d", n.Name(), len(n.IDs()), 3*perNode)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return c
}

func (c *benchCluster) close() {
	for _, h := range c.hubs {
		h.Close()
	}
	for _, n := range c.nodes {
		n.Close()
	}
	for _, p := range c.peers {
		p.Close()
	}
	c.srv.Stop()
}

// warmUp runs one gather before the timed ones and reports its time: the
// first message through each of the 60,000 pipe ends grows its reader
// goroutine's stack, once (stacks go from 117 to 235 MB; the first gather
// takes about 1.5 times as long as the next ones). The WebSocket clients
// of MeasureFanout and MeasureClusterFanout have each made a call when
// they connected, so their gathers never include that.
func warmUp(b *testing.B, gather func()) (report func()) {
	start := time.Now()
	gather()
	first := time.Since(start)
	b.ResetTimer() // which drops metrics reported so far: report later
	return func() { b.ReportMetric(float64(first.Milliseconds()), "ms/first-gather") }
}

// pipePair returns a server-side peer and a client serving h, joined in
// memory.
func pipePair(b testing.TB, h rpc.Handler) (*rpc.Peer, *rpc.Peer) {
	x, y := rpc.Pipe()
	s, err := rpc.NewPeer(x)
	if err != nil {
		b.Fatal(err)
	}
	cl, err := rpc.NewPeer(y, rpc.WithHandler(h))
	if err != nil {
		b.Fatal(err)
	}
	return s, cl
}

// BenchmarkClusterCall: node 0 calls "add" on a client it holds (same) and
// on a client of node 1 (other), one call at a time.
func BenchmarkClusterCall(b *testing.B) {
	c := startCluster(b, 1, false)
	ctx := context.Background()
	for _, target := range []struct{ name, id string }{{"same", "n0-c0"}, {"other", "n1-c0"}} {
		b.Run(target.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var sum int
				if err := c.nodes[0].Call(ctx, target.id, "add", [2]int{1, 2}, &sum); err != nil || sum != 3 {
					b.Fatalf("%d, %v", sum, err)
				}
			}
		})
	}
}

// BenchmarkClusterCallAll: CallAll over 3 nodes holding 30,000 clients in
// all, gathered on node 0; reports each gather's wall time.
func BenchmarkClusterCallAll(b *testing.B) {
	const perNode = 10_000
	c := startCluster(b, perNode, false)
	ctx := context.Background()
	first := warmUp(b, func() { nats.CallAll[int](ctx, c.nodes[0], "add", [2]int{1, 2}, 30*time.Second) })
	for b.Loop() {
		replies := nats.CallAll[int](ctx, c.nodes[0], "add", [2]int{1, 2}, 30*time.Second)
		if len(replies) != 3*perNode {
			b.Fatalf("%d replies", len(replies))
		}
		for _, r := range replies {
			if r.Err != nil || r.Result != 3 {
				b.Fatalf("%+v", r)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/gather")
	first()
}

// BenchmarkCallAllOneNode is the same gather with the 30,000 clients on
// one node, no cluster: rpc.CallAll over one PeerSet, the baseline for
// BenchmarkClusterCallAll.
func BenchmarkCallAllOneNode(b *testing.B) {
	const clients = 30_000
	var set rpc.PeerSet
	var peers []*rpc.Peer
	defer func() {
		for _, p := range peers {
			p.Close()
		}
	}()
	for j := range clients {
		s, cl := pipePair(b, addRouter(false))
		peers = append(peers, s, cl)
		set.Add(fmt.Sprint("c", j), s)
	}
	ctx := context.Background()
	first := warmUp(b, func() { rpc.CallAll[int](ctx, &set, "add", [2]int{1, 2}, 30*time.Second) })
	for b.Loop() {
		replies := rpc.CallAll[int](ctx, &set, "add", [2]int{1, 2}, 30*time.Second)
		for _, r := range replies {
			if r.Err != nil || r.Result != 3 {
				b.Fatalf("%+v", r)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/gather")
	first()
}

// BenchmarkClusterPublish: a hub publish on node 0 to 30,000 subscribers
// over 3 nodes, until every subscriber's event is written to its link.
func BenchmarkClusterPublish(b *testing.B) {
	const perNode = 10_000
	c := startCluster(b, 0, true) // the subscribers come below
	// Count events at the clients: each client's router gets hub.event.
	got := make(chan struct{}, 3*perNode)
	counter := rpc.NewRouter()
	counter.Register(hub.EventMethod, rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		got <- struct{}{}
		return nil, nil
	}))
	// Re-connect every subscriber with a counting client.
	for i, set := range c.sets {
		for j := range perNode {
			srvEnd, cl := pipePair(b, counter)
			c.peers = append(c.peers, srvEnd, cl)
			if _, err := set.Add(fmt.Sprintf("n%d-e%d", i, j), srvEnd); err != nil {
				b.Fatal(err)
			}
			if err := c.hubs[i].Subscribe(srvEnd, "news.*"); err != nil {
				b.Fatal(err)
			}
		}
	}
	// Wait until the other nodes' interest reaches NATS.
	probe := func(k int) int {
		c.hubs[0].Publish("news.today", map[string]int{"k": k})
		n := 0
		timeout := time.After(30 * time.Second)
		for n < 3*perNode {
			select {
			case <-got:
				n++
			case <-timeout:
				return n
			}
		}
		return n
	}
	if n := probe(0); n != 3*perNode {
		b.Fatalf("%d of %d events", n, 3*perNode)
	}
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		if n := probe(k); n != 3*perNode {
			b.Fatalf("%d of %d events", n, 3*perNode)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/publish")
}

// BenchmarkPublishOneNode is the same publish with the 30,000 subscribers
// on one node's hub, no cluster: the baseline for BenchmarkClusterPublish.
func BenchmarkPublishOneNode(b *testing.B) {
	const subscribers = 30_000
	h, err := hub.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	got := make(chan struct{}, subscribers)
	counter := rpc.NewRouter()
	counter.Register(hub.EventMethod, rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		got <- struct{}{}
		return nil, nil
	}))
	var peers []*rpc.Peer
	defer func() {
		for _, p := range peers {
			p.Close()
		}
	}()
	for range subscribers {
		s, cl := pipePair(b, counter)
		peers = append(peers, s, cl)
		if err := h.Subscribe(s, "news.*"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for k := 0; b.Loop(); k++ {
		h.Publish("news.today", map[string]int{"k": k})
		for range subscribers {
			<-got
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/publish")
}

// BenchmarkClusterMemory reports the heap per connected client (a pipe
// pair: the server's peer and the client's) without a cluster, and what a
// cluster node adds per client once it follows the same set: its NATS
// subscription, its presence entry, the entry in a second node's view, and
// the embedded NATS server's own state for the subscription (in this
// process too).
func BenchmarkClusterMemory(b *testing.B) {
	const clients = 10_000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc + m.StackInuse
	}
	for b.Loop() {
		var (
			set   rpc.PeerSet
			peers []*rpc.Peer
			nodes []*nats.Node
		)
		base := heap()
		for j := range clients {
			s, cl := pipePair(b, addRouter(false))
			peers = append(peers, s, cl)
			set.Add(fmt.Sprint("c", j), s)
		}
		plain := heap()
		srv, err := natsserver.Start()
		if err != nil {
			b.Fatal(err)
		}
		var empty rpc.PeerSet
		start := func(s *rpc.PeerSet) {
			n, err := nats.NewNode(s, &nats.Options{URL: srv.URL(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			nodes = append(nodes, n)
		}
		start(&empty) // the watching node
		idle := heap()
		start(&set)
		for len(nodes[0].IDs()) != clients {
			time.Sleep(10 * time.Millisecond)
		}
		full := heap()
		b.ReportMetric(float64(plain-base)/clients, "B/client")
		b.ReportMetric(float64(int64(full)-int64(idle))/clients, "B/client-cluster")
		for _, n := range nodes {
			n.Close()
		}
		srv.Stop()
		for _, p := range peers {
			p.Close()
		}
	}
}
