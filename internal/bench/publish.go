package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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

	// Round is set in the child's reports: the round all its subscribers
	// received.
	Round int `json:"round,omitempty"`
}

// Median returns the median publish time.
func (r PublishResult) Median() time.Duration {
	return FanoutResult{Rounds: r.Rounds}.Median()
}

// PublishProfileEnv names the environment variable that, when set to a
// path, makes [MeasurePublish] write a CPU profile of its rounds there.
const PublishProfileEnv = "PARLEY_BENCH_PUBLISH_CPUPROFILE"

// publishTopic is the topic every subscriber of MeasurePublish takes.
const publishTopic = "bench.fanout"

// MeasurePublish serves a hub to n Parley clients, started in a child
// process with spawn, each subscribed to one topic, and publishes to it
// rounds times, timing each publish until the last subscriber has it.
func MeasurePublish(n, rounds int, spawn Spawner) (PublishResult, error) {
	res := PublishResult{Subscribers: n}
	h, err := hub.New(nil)
	if err != nil {
		return res, err
	}
	routes := rpc.NewRouter()
	if err := h.Mount(routes); err != nil {
		return res, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		return res, err
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		return res, err
	}
	defer func() { _ = closeAll(ws.Close, srv.Close, h.Close) }()

	c, err := startChild(spawn, childSpec{Role: "publish-clients", URL: srv.URL, N: n})
	if err != nil {
		return res, err
	}
	var up PublishResult
	if err := c.next(&up, time.Duration(n)*20*time.Millisecond+time.Minute); err != nil {
		_, _ = c.stop(time.Minute)
		return res, err
	}
	if got := h.SubscriberCount(publishTopic); got != n {
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
	for round := 1; round <= rounds; round++ {
		start := time.Now()
		if _, err := h.Publish(publishTopic, [2]int{round, n}); err != nil {
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
	}
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
	var (
		mu     sync.Mutex
		counts = map[int]*atomic.Int64{}
		sayMu  sync.Mutex
	)
	count := func(round int) *atomic.Int64 {
		mu.Lock()
		defer mu.Unlock()
		c := counts[round]
		if c == nil {
			c = new(atomic.Int64)
			counts[round] = c
		}
		return c
	}
	routes := rpc.NewRouter()
	routes.Register(hub.EventMethod, rpc.Func(func(_ context.Context, ev struct {
		Data [2]int `json:"data"`
	}) (any, error) {
		if count(ev.Data[0]).Add(1) == int64(ev.Data[1]) {
			sayMu.Lock()
			defer sayMu.Unlock()
			_ = say(PublishResult{Round: ev.Data[0]})
		}
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
		err = say(PublishResult{Subscribers: spec.N})
		waitEOF(stdin)
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

// MeasurePublishFresh runs [MeasurePublish] in a new process started with
// spawn, so that the server's allocations are its own.
func MeasurePublishFresh(n, rounds int, spawn Spawner) (PublishResult, error) {
	return measureFresh[PublishResult](spawn, childSpec{Role: "publish-server", N: n, Rounds: rounds}, time.Duration(n)*40*time.Millisecond+5*time.Minute)
}
