package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// PublishResult is what [MeasurePublish] found.
type PublishResult struct {
	Subscribers int `json:"subscribers"`
	// Rounds is the wall time of each publish: from hub.Publish until the
	// child reports that its last subscriber has received the event.
	Rounds []time.Duration `json:"rounds_ns"`
	// AllocsPerEvent is the server's allocations per event delivered
	// (runtime.MemStats.Mallocs over the rounds, divided by subscribers ×
	// rounds); BytesPerEvent likewise.
	AllocsPerEvent float64 `json:"allocs_per_event"`
	BytesPerEvent  float64 `json:"bytes_per_event"`

	// ServerCPU and ClientCPU are the CPU time (user and system) the
	// server's process and the subscribers' process used per round, the
	// mean over the rounds: the machine has two processors, and both
	// sides use them.
	ServerCPU time.Duration `json:"server_cpu_ns,omitempty"`
	ClientCPU time.Duration `json:"client_cpu_ns,omitempty"`

	// Round is set in the child's reports: the round all its subscribers
	// received. CPU is the child's CPU time so far, in every report.
	Round int           `json:"round,omitempty"`
	CPU   time.Duration `json:"cpu_ns,omitempty"`
}

// Median returns the median publish time.
func (r PublishResult) Median() time.Duration {
	return FanoutResult{Rounds: r.Rounds}.Median()
}

// PublishProfileEnv names the environment variable that, when set to a
// path, makes [MeasurePublish] write a CPU profile of its rounds there.
// The subscribers' process writes its own, of the same rounds, to that
// path with ".clients" added.
const PublishProfileEnv = "PARLEY_BENCH_PUBLISH_CPUPROFILE"

// publishTopic is the topic every subscriber of MeasurePublish takes.
const publishTopic = "bench.fanout"

// publisher is the server side of a publish measurement: a hub, or the
// raw floor.
type publisher struct {
	url     string
	role    string                   // the subscribers' child role
	count   func() int               // subscribers connected
	publish func(round, n int) error // one event to every subscriber
	close   func() error
}

// MeasurePublish serves a hub to n Parley clients, started in a child
// process with spawn, each subscribed to one topic, and publishes to it
// rounds times, timing each publish until the last subscriber has it.
func MeasurePublish(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureHubPublish(n, rounds, spawn, "publish-clients")
}

// MeasurePublishBare is [MeasurePublish] with bare subscribers: gorilla
// clients that subscribe with a JSON-RPC request of their own and then
// only read and count, as the floor's do. It is the hub's side alone, with
// subscribers that do no RPC work (a browser's, say).
func MeasurePublishBare(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureHubPublish(n, rounds, spawn, "publish-bare-clients")
}

// measureHubPublish measures a hub's publish to subscribers of a child
// role.
func measureHubPublish(n, rounds int, spawn Spawner, role string) (PublishResult, error) {
	h, err := hub.New(nil)
	if err != nil {
		return PublishResult{Subscribers: n}, err
	}
	routes := rpc.NewRouter()
	if err := h.Mount(routes); err != nil {
		return PublishResult{Subscribers: n}, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		return PublishResult{Subscribers: n}, err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return PublishResult{Subscribers: n}, errors.Join(err, closeAll(ws.Close, h.Close))
	}
	return measurePublish(n, rounds, spawn, publisher{
		url:   srv.URL,
		role:  role,
		count: func() int { return h.SubscriberCount(publishTopic) },
		publish: func(round, n int) error {
			_, err := h.Publish(publishTopic, [2]int{round, n})
			return err
		},
		close: func() error { return closeAll(ws.Close, srv.Close, h.Close) },
	})
}

// MeasurePublishFloor is [MeasurePublish]'s floor: gorilla/websocket with
// no RPC layer writes the bytes of the hub's event to n gorilla clients,
// each write on a goroutine of its own as the hub's are, and each client
// reads on one goroutine and counts. The machine cannot publish faster.
func MeasurePublishFloor(n, rounds int, spawn Spawner) (PublishResult, error) {
	var (
		mu    sync.Mutex
		conns []*rawSubscriber
	)
	srv, err := serveHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, &rawSubscriber{ws: ws})
		mu.Unlock()
		for { // until the client goes
			if _, _, err := ws.ReadMessage(); err != nil {
				_ = ws.Close()
				return
			}
		}
	}))
	if err != nil {
		return PublishResult{Subscribers: n}, err
	}
	return measurePublish(n, rounds, spawn, publisher{
		url:  srv.URL,
		role: "publish-raw-clients",
		count: func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(conns)
		},
		publish: func(round, n int) error {
			ev := floorEvent(round, n)
			mu.Lock()
			subs := conns
			mu.Unlock()
			for _, s := range subs {
				go s.write(ev)
			}
			return nil
		},
		close: srv.Close,
	})
}

// floorEvent is the floor's event for round of n subscribers: the bytes
// of the hub's event for that publish (TestFloorEventIsTheHubs).
func floorEvent(round, n int) []byte {
	return fmt.Appendf(nil, `{"jsonrpc": "2.0", "method": %q, "params": {"topic":%q,"data":[%d,%d]}}`, hub.EventMethod, publishTopic, round, n)
}

// rawSubscriber is the floor's connection to one subscriber.
type rawSubscriber struct {
	mu sync.Mutex // gorilla allows one writer at a time
	ws *gorilla.Conn
}

func (s *rawSubscriber) write(ev []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.ws.WriteMessage(gorilla.TextMessage, ev) // a failure shows as a round never reported
}

// measurePublish runs a publish measurement on p.
func measurePublish(n, rounds int, spawn Spawner, p publisher) (PublishResult, error) {
	res := PublishResult{Subscribers: n}
	defer func() { _ = p.close() }()
	c, err := startChild(spawn, childSpec{Role: p.role, URL: p.url, N: n})
	if err != nil {
		return res, err
	}
	var up PublishResult
	if err := c.next(&up, time.Duration(n)*20*time.Millisecond+time.Minute); err != nil {
		_, _ = c.stop(time.Minute)
		return res, err
	}
	// A client's dial can return before the server has counted it.
	for wait := time.Now().Add(setupTimeout); p.count() < n && time.Now().Before(wait); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.count(); got != n {
		_, _ = c.stop(time.Minute)
		return res, fmt.Errorf("bench: %d subscribers, want %d", got, n)
	}
	stopProfile, err := profileTo(os.Getenv(PublishProfileEnv))
	if err != nil {
		_, _ = c.stop(time.Minute)
		return res, err
	}
	defer stopProfile()
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	clientCPU, serverCPU := up.CPU, CPUTime()
	last := up
	for round := 1; round <= rounds; round++ {
		start := time.Now()
		if err := p.publish(round, n); err != nil {
			_, _ = c.stop(time.Minute)
			return res, err
		}
		var got PublishResult
		if err := c.next(&got, time.Minute); err != nil {
			_, _ = c.stop(time.Minute)
			return res, err
		}
		res.Rounds = append(res.Rounds, time.Since(start))
		if got.Round != round {
			_, _ = c.stop(time.Minute)
			return res, fmt.Errorf("bench: the child reported round %d, want %d", got.Round, round)
		}
		last = got
	}
	res.ServerCPU = (CPUTime() - serverCPU) / time.Duration(rounds)
	res.ClientCPU = (last.CPU - clientCPU) / time.Duration(rounds)
	runtime.ReadMemStats(&m1)
	stopProfile() // not the child's ending
	events := float64(n * rounds)
	res.AllocsPerEvent = float64(m1.Mallocs-m0.Mallocs) / events
	res.BytesPerEvent = float64(m1.TotalAlloc-m0.TotalAlloc) / events
	_, err = c.stop(2 * time.Minute)
	return res, err
}

// publishClients is the child role of MeasurePublish: it connects the
// clients, each subscribed to the topic, says so, and then says each
// round once all of them have received its event.
func publishClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	rounds := newRoundCounter(spec.N, say)
	routes := rpc.NewRouter()
	routes.Register(hub.EventMethod, rpc.Func(func(_ context.Context, ev struct {
		Data [2]int `json:"data"`
	}) (any, error) {
		rounds.received(ev.Data[0])
		return nil, nil
	}))
	peers := make([]*rpc.Peer, spec.N)
	err := dialMany(spec.N, spec.Dialers, func(ctx context.Context, i int) error {
		p, err := websocket.Dial(ctx, spec.URL, &websocket.DialOptions{Handler: routes})
		if err != nil {
			return err
		}
		if err := p.Call(ctx, hub.MethodSubscribe, map[string]string{"topic": publishTopic}, nil); err != nil {
			p.Close()
			return err
		}
		peers[i] = p
		return nil
	})
	if err == nil {
		err = subscribersUp(spec.N, stdin, say)
	}
	if cerr := closeParallel(len(peers), func(i int) error {
		if peers[i] != nil {
			return peers[i].Close()
		}
		return nil
	}); err == nil {
		err = cerr
	}
	return err
}

// publishRawClients is the child role of MeasurePublishFloor: n gorilla
// clients, each reading on one goroutine; a client's k-th message is
// round k's event.
func publishRawClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	return gorillaSubscribers(spec, stdin, say, false)
}

// publishBareClients is the child role of MeasurePublishBare: the floor's
// clients, each subscribing to the hub's topic first.
func publishBareClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	return gorillaSubscribers(spec, stdin, say, true)
}

// subscribeRequest is hub.subscribe to the publish topic, as a bare
// client sends it.
var subscribeRequest = []byte(`{"jsonrpc":"2.0","method":"` + hub.MethodSubscribe + `","params":{"topic":"` + publishTopic + `"},"id":1}`)

// gorillaSubscribers connects n gorilla clients, each reading on one
// goroutine and counting; with subscribe, each first subscribes through
// the hub and waits for its answer.
func gorillaSubscribers(spec childSpec, stdin io.Reader, say func(any) error, subscribe bool) error {
	rounds := newRoundCounter(spec.N, say)
	conns := make([]*gorilla.Conn, spec.N)
	var readers sync.WaitGroup
	err := dialMany(spec.N, spec.Dialers, func(ctx context.Context, i int) error {
		ws, _, err := (&gorilla.Dialer{}).DialContext(ctx, spec.URL, nil)
		if err != nil {
			return err
		}
		conns[i] = ws
		if subscribe {
			if d, ok := ctx.Deadline(); ok {
				_ = ws.SetReadDeadline(d)
			}
			if err := ws.WriteMessage(gorilla.TextMessage, subscribeRequest); err != nil {
				return err
			}
			var answer struct {
				Result bool `json:"result"`
			}
			if err := ws.ReadJSON(&answer); err != nil || !answer.Result {
				return fmt.Errorf("bench: hub.subscribe answered %+v, %v", answer, err)
			}
			_ = ws.SetReadDeadline(time.Time{})
		}
		readers.Go(func() {
			for round := 1; ; round++ {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				rounds.received(round)
			}
		})
		return nil
	})
	if err == nil {
		err = subscribersUp(spec.N, stdin, say)
	}
	for _, ws := range conns {
		if ws != nil {
			_ = ws.Close()
		}
	}
	readers.Wait()
	return err
}

// subscribersUp says that the n subscribers are up, and waits for stdin
// to close, with a CPU profile of that time if PublishProfileEnv asks.
func subscribersUp(n int, stdin io.Reader, say func(any) error) error {
	if path := os.Getenv(PublishProfileEnv); path != "" {
		stop, err := profileTo(path + ".clients")
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := say(PublishResult{Subscribers: n, CPU: CPUTime()}); err != nil {
		return err
	}
	waitEOF(stdin)
	return nil
}

// roundCounter says each round, with the process's CPU time so far, once
// all n subscribers have received its event.
type roundCounter struct {
	n   int
	say func(any) error

	mu     sync.Mutex
	counts map[int]int
}

func newRoundCounter(n int, say func(any) error) *roundCounter {
	return &roundCounter{n: n, say: say, counts: map[int]int{}}
}

func (c *roundCounter) received(round int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[round]++
	if c.counts[round] == c.n {
		delete(c.counts, round)
		_ = c.say(PublishResult{Round: round, CPU: CPUTime()})
	}
}

// MeasurePublishFresh runs [MeasurePublish] in a new process started with
// spawn, so that the server's allocations are its own.
func MeasurePublishFresh(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureFresh[PublishResult](spawn, childSpec{Role: "publish-server", N: n, Rounds: rounds}, time.Duration(n)*40*time.Millisecond+5*time.Minute)
}

// MeasurePublishFloorFresh runs [MeasurePublishFloor] in a new process
// started with spawn.
func MeasurePublishFloorFresh(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureFresh[PublishResult](spawn, childSpec{Role: "publish-raw-server", N: n, Rounds: rounds}, time.Duration(n)*40*time.Millisecond+5*time.Minute)
}

// MeasurePublishBareFresh is [MeasurePublishBare] in a fresh process.
func MeasurePublishBareFresh(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureFresh[PublishResult](spawn, childSpec{Role: "publish-bare-server", N: n, Rounds: rounds}, time.Duration(n)*40*time.Millisecond+5*time.Minute)
}
