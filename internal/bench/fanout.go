package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// FanoutResult is what [MeasureFanout] found.
type FanoutResult struct {
	Clients int `json:"clients"`
	// Connect is how long the child took to open every connection (and
	// make one call on each), dialing a few at a time.
	Connect time.Duration `json:"connect_ns"`
	// Rounds is the wall time of each gather: rpc.CallAll of "add" to
	// every client, until the last answer is in.
	Rounds []time.Duration `json:"rounds_ns"`
	// Failed counts the replies, over all rounds, that were errors or not 3.
	Failed int `json:"failed"`
	// IdleBytes is the server's heap and stacks in use with every client
	// connected and idle; PeakBytes the highest sample (every 2 ms) while
	// the rounds ran.
	IdleBytes uint64 `json:"idle_bytes"`
	PeakBytes uint64 `json:"peak_bytes"`
	// ServerHWM and ClientHWM are each process's peak resident set size
	// (VmHWM), connecting included; 0 where /proc is not there.
	ServerHWM uint64 `json:"server_hwm"`
	ClientHWM uint64 `json:"client_hwm"`
}

// Median returns the median gather time.
func (r FanoutResult) Median() time.Duration {
	if len(r.Rounds) == 0 {
		return 0
	}
	d := append([]time.Duration(nil), r.Rounds...)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

// fanoutTimeout bounds one client's answer within a gather.
const fanoutTimeout = 30 * time.Second

// MeasureFanout serves n Parley clients, started in a child process with
// spawn, and calls every one of them at once, rounds times, with
// rpc.CallAll, timing each gather and sampling the server's memory.
func MeasureFanout(n, rounds int, spawn Spawner) (FanoutResult, error) {
	res := FanoutResult{Clients: n}
	var peers rpc.PeerSet
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: addRouter(false), Peers: &peers})
	if err != nil {
		return res, err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return res, err
	}
	defer func() { _ = closeAll(ws.Close, srv.Close) }()

	c, err := startChild(spawn, childSpec{Role: "fanout-clients", URL: srv.URL, N: n})
	if err != nil {
		return res, err
	}
	var up FanoutResult
	if err := c.next(&up, time.Duration(n)*20*time.Millisecond+time.Minute); err != nil {
		_, _ = c.stop(time.Minute)
		return res, err
	}
	res.Connect = up.Connect
	// A peer joins the set just after its handshake; its first call can
	// be answered a moment before that.
	for deadline := time.Now().Add(10 * time.Second); peers.Len() < n && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if peers.Len() != n {
		_, _ = c.stop(time.Minute)
		return res, fmt.Errorf("bench: %d peers in the set, want %d", peers.Len(), n)
	}
	res.IdleBytes = snapshot().Bytes

	stopProfile, err := profileGathers()
	if err != nil {
		_, _ = c.stop(time.Minute)
		return res, err
	}
	stop := watchPeak()
	for range rounds {
		start := time.Now()
		replies := rpc.CallAll[int](context.Background(), &peers, "add", [2]int{1, 2}, fanoutTimeout)
		res.Rounds = append(res.Rounds, time.Since(start))
		if len(replies) != n {
			res.Failed += n - len(replies)
		}
		for _, r := range replies {
			if r.Err != nil || r.Result != 3 {
				res.Failed++
			}
		}
	}
	res.PeakBytes = stop()
	stopProfile()
	res.ServerHWM = vmHWM()

	rest, err := c.stop(2 * time.Minute)
	if err != nil {
		return res, err
	}
	if len(rest) > 0 {
		var end FanoutResult
		if err := jsonUnmarshal(rest[len(rest)-1], &end); err == nil {
			res.ClientHWM = end.ClientHWM
		}
	}
	return res, nil
}

// ProfileEnv names the environment variable that, when set to a path,
// makes [MeasureFanout] write a CPU profile of its gathers there.
const ProfileEnv = "PARLEY_BENCH_FANOUT_CPUPROFILE"

// profileGathers starts the CPU profile ProfileEnv asks for, if any.
func profileGathers() (stop func(), err error) { return profileTo(os.Getenv(ProfileEnv)) }

// profileTo starts a CPU profile written to path, unless path is empty;
// stop may be called more than once.
func profileTo(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}), nil
}

// fanoutClients is the child role of MeasureFanout: it connects the
// clients, says how long that took, serves the server's calls until told
// to stop, then reports its peak memory and disconnects.
func fanoutClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	set := &parleyClients{peers: make([]*rpc.Peer, spec.N)}
	start := time.Now()
	err := dialMany(spec.N, spec.Dialers, func(ctx context.Context, i int) error { return set.dial(ctx, spec.URL, i) })
	if err == nil {
		err = say(FanoutResult{Clients: spec.N, Connect: time.Since(start)})
		waitEOF(stdin)
		if err == nil {
			err = say(FanoutResult{ClientHWM: vmHWM()})
		}
	}
	if cerr := set.close(); err == nil {
		err = cerr
	}
	return err
}

// MeasureFanoutFresh runs [MeasureFanout] in a new process started with
// spawn, so that the server's peak memory is its own.
func MeasureFanoutFresh(n, rounds int, spawn Spawner) (FanoutResult, error) {
	return measureFresh[FanoutResult](spawn, childSpec{Role: "fanout-server", N: n, Rounds: rounds}, time.Duration(n)*40*time.Millisecond+5*time.Minute)
}
