package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/natsserver"
	"github.com/parleyrpc/parley/rpc"
)

// The cluster's CallAll as it runs in a deployment: every node a process
// of its own, joined by a NATS server (embedded in the measuring
// process), and every node's clients real WebSocket clients in a child
// process of their own, over loopback. No process holds more than one
// node's connections, so each stays under the 20,000 open files a process
// may hold here, and no node's garbage collector walks another node's
// heap or the clients'. BenchmarkClusterCallAll (cluster_bench_test.go)
// is the in-memory counterpart: three nodes, 30,000 pipe clients and
// their 30,000 server peers in one process.

// ClusterFanoutResult is what [MeasureClusterFanout] found.
type ClusterFanoutResult struct {
	Nodes   int `json:"nodes"`
	PerNode int `json:"per_node"`
	// Connect is the longest any clients' process took to open its
	// connections (the processes dial at the same time).
	Connect time.Duration `json:"connect_ns"`
	// Rounds is the wall time of each gather: nats.CallAll of "add" on
	// node 0 to every client of every node, until the last answer is in.
	Rounds []time.Duration `json:"rounds_ns"`
	// Failed counts replies, over all rounds, missing or not 3.
	Failed int `json:"failed"`
	// NodeCPU, ClientCPU: CPU time (user+system) each node's process and
	// each clients' process used while the rounds ran, all rounds
	// together; MainCPU the measuring process's (the NATS server).
	NodeCPU   []time.Duration `json:"node_cpu_ns"`
	ClientCPU []time.Duration `json:"client_cpu_ns"`
	MainCPU   time.Duration   `json:"main_cpu_ns"`
	// NodeGCs is the number of garbage collections in each node while the
	// rounds ran.
	NodeGCs []uint32 `json:"node_gcs"`
	// IdleBytes is node 0's heap and stacks with every client connected;
	// PeakBytes its highest sample while the rounds ran.
	IdleBytes uint64 `json:"idle_bytes"`
	PeakBytes uint64 `json:"peak_bytes"`
}

// Median returns the median gather time.
func (r ClusterFanoutResult) Median() time.Duration {
	if len(r.Rounds) == 0 {
		return 0
	}
	d := append([]time.Duration(nil), r.Rounds...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// ClusterProfileEnv names the environment variable that, set to a path
// prefix, makes every node and clients' process of [MeasureClusterFanout]
// write a CPU profile of the rounds to <prefix>.<process> (n0, n1, n2,
// clients0...).
const ClusterProfileEnv = "PARLEY_BENCH_CLUSTER_CPUPROFILE"

// clusterReport is every line a cluster node or clients' process says.
type clusterReport struct {
	URL       string          `json:"url,omitempty"`
	View      int             `json:"view,omitempty"`
	CPU       time.Duration   `json:"cpu_ns,omitempty"`
	GCs       uint32          `json:"gcs,omitempty"`
	Rounds    []time.Duration `json:"rounds_ns,omitempty"`
	Failed    int             `json:"failed,omitempty"`
	IdleBytes uint64          `json:"idle_bytes,omitempty"`
	PeakBytes uint64          `json:"peak_bytes,omitempty"`
	Err       string          `json:"err,omitempty"`
}

// MeasureClusterFanout starts nodes node processes joined by an embedded
// NATS server, perNode WebSocket clients for each in processes of their
// own, and has node 0 call every client of every node with nats.CallAll,
// rounds times. spawn starts this program again (see [RunChild]).
func MeasureClusterFanout(nodes, perNode, rounds int, spawn Spawner) (res ClusterFanoutResult, err error) {
	res = ClusterFanoutResult{Nodes: nodes, PerNode: perNode}
	srv, err := natsserver.Start()
	if err != nil {
		return res, err
	}
	defer srv.Stop()

	var nodeProcs, clientProcs []*child
	defer func() {
		// Clients first, so that nodes do not see their clients drop
		// while they close themselves.
		for _, group := range [][]*child{clientProcs, nodeProcs} {
			for _, c := range group {
				if _, serr := c.stop(2 * time.Minute); err == nil {
					err = serr
				}
			}
		}
	}()
	total := nodes * perNode
	urls := make([]string, nodes)
	for i := range nodes {
		c, err := startChild(spawn, childSpec{Role: "cluster-node", Lib: fmt.Sprint("n", i), URL: srv.URL(), N: total, Rounds: rounds})
		if err != nil {
			return res, err
		}
		nodeProcs = append(nodeProcs, c)
		var r clusterReport
		if err := c.next(&r, time.Minute); err != nil {
			return res, fmt.Errorf("bench: node %d: %w", i, err)
		}
		urls[i] = r.URL
	}
	for i := range nodes {
		c, err := startChild(spawn, childSpec{Role: "cluster-clients", Lib: fmt.Sprint("clients", i), URL: urls[i], N: perNode})
		if err != nil {
			return res, err
		}
		clientProcs = append(clientProcs, c)
	}
	for i, c := range clientProcs {
		var up FanoutResult
		if err := c.next(&up, time.Duration(perNode)*20*time.Millisecond+time.Minute); err != nil {
			return res, fmt.Errorf("bench: clients %d: %w", i, err)
		}
		res.Connect = max(res.Connect, up.Connect)
	}
	for i, c := range nodeProcs {
		var r clusterReport
		if err := c.ask("view", &r, 2*time.Minute); err != nil {
			return res, fmt.Errorf("bench: node %d: %w", i, err)
		}
		if i == 0 {
			res.IdleBytes = r.IdleBytes
		}
		if r.View != total {
			return res, fmt.Errorf("bench: node %d sees %d clients of %d", i, r.View, total)
		}
	}

	all := append(append([]*child(nil), nodeProcs...), clientProcs...)
	before := make([]clusterReport, len(all))
	for i, c := range all {
		if err := c.ask("begin", &before[i], time.Minute); err != nil {
			return res, err
		}
	}
	mainCPU := CPUTime()
	var g clusterReport
	if err := nodeProcs[0].ask("gather", &g, time.Duration(rounds)*(fanoutTimeout+time.Minute)); err != nil {
		return res, err
	}
	if g.Err != "" {
		return res, errors.New(g.Err)
	}
	res.MainCPU = CPUTime() - mainCPU
	res.Rounds, res.Failed, res.PeakBytes = g.Rounds, g.Failed, g.PeakBytes
	for i, c := range all {
		var after clusterReport
		if err := c.ask("end", &after, time.Minute); err != nil {
			return res, err
		}
		cpu := after.CPU - before[i].CPU
		if i < nodes {
			res.NodeCPU = append(res.NodeCPU, cpu)
			res.NodeGCs = append(res.NodeGCs, after.GCs-before[i].GCs)
		} else {
			res.ClientCPU = append(res.ClientCPU, cpu)
		}
	}
	return res, nil
}

// ask writes a command line to the child and decodes its answer into v.
func (c *child) ask(cmd string, v any, timeout time.Duration) error {
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		return err
	}
	return c.next(v, timeout)
}

// commands reads the parent's command lines and runs each with do, which
// answers; it returns when stdin ends.
func commands(stdin io.Reader, do func(cmd string) error) error {
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		if err := do(strings.TrimSpace(sc.Text())); err != nil {
			return err
		}
	}
	return nil
}

// window answers "begin" and "end": the process's CPU time and GC count
// at each, and a CPU profile between them when ClusterProfileEnv asks.
type window struct {
	name    string
	profile *os.File
}

func (w *window) run(cmd string, say func(any) error) (bool, error) {
	switch cmd {
	case "begin":
		if prefix := os.Getenv(ClusterProfileEnv); prefix != "" && w.profile == nil {
			f, err := os.Create(prefix + "." + w.name)
			if err != nil {
				return true, err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return true, err
			}
			w.profile = f
		}
	case "end":
		if w.profile != nil {
			pprof.StopCPUProfile()
			_ = w.profile.Close()
			w.profile = nil
		}
	default:
		return false, nil
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return true, say(clusterReport{CPU: CPUTime(), GCs: ms.NumGC})
}

// clusterNode is the child role of one node: a WebSocket server whose
// peers a nats.Node joins to the cluster.
func clusterNode(spec childSpec, stdin io.Reader, say func(any) error) error {
	var peers rpc.PeerSet
	var seq atomic.Uint64
	ws, err := websocket.NewServer(&websocket.ServerOptions{
		Handler: addRouter(false),
		// Ids unique across the cluster: the node's name and a number.
		OnConnect: func(p *rpc.Peer, _ *http.Request) {
			if _, err := peers.Add(fmt.Sprintf("%s-c%d", spec.Lib, seq.Add(1)), p); err != nil {
				p.Close()
			}
		},
	})
	if err != nil {
		return err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return err
	}
	defer func() { _ = closeAll(ws.Close, srv.Close) }()
	node, err := nats.NewNode(&peers, &nats.Options{URL: spec.URL, Name: spec.Lib, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer node.Close()
	if err := say(clusterReport{URL: srv.URL}); err != nil {
		return err
	}
	w := &window{name: spec.Lib}
	return commands(stdin, func(cmd string) error {
		if ok, err := w.run(cmd, say); ok {
			return err
		}
		switch cmd {
		case "view":
			// The clients' processes said they are connected; their last
			// peers join the set, and the view, a moment later.
			for deadline := time.Now().Add(time.Minute); len(node.IDs()) != spec.N && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			return say(clusterReport{View: len(node.IDs()), IdleBytes: snapshot().Bytes})
		case "gather":
			var r clusterReport
			stop := watchPeak()
			for range spec.Rounds {
				start := time.Now()
				replies := nats.CallAll[int](context.Background(), node, "add", [2]int{1, 2}, fanoutTimeout)
				r.Rounds = append(r.Rounds, time.Since(start))
				r.Failed += max(spec.N-len(replies), 0)
				for _, x := range replies {
					if x.Err != nil || x.Result != 3 {
						r.Failed++
					}
				}
			}
			r.PeakBytes = stop()
			return say(r)
		}
		return say(clusterReport{Err: fmt.Sprintf("no command %q", cmd)})
	})
}

// clusterClients is the child role of one node's clients: it connects
// them, says so, answers "begin" and "end", and disconnects when its
// stdin ends.
func clusterClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	set := &parleyClients{peers: make([]*rpc.Peer, spec.N)}
	start := time.Now()
	err := dialMany(spec.N, spec.Dialers, func(ctx context.Context, i int) error { return set.dial(ctx, spec.URL, i) })
	if err == nil {
		err = say(FanoutResult{Clients: spec.N, Connect: time.Since(start)})
	}
	if err == nil {
		w := &window{name: spec.Lib}
		err = commands(stdin, func(cmd string) error {
			if ok, err := w.run(cmd, say); ok {
				return err
			}
			return say(clusterReport{Err: fmt.Sprintf("no command %q", cmd)})
		})
	}
	if cerr := set.close(); err == nil {
		err = cerr
	}
	return err
}
