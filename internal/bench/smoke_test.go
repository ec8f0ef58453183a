package bench

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestChild is how this test binary runs as the clients' child process
// of the idle and fan-out measurements; run directly, it does nothing.
func TestChild(t *testing.T) {
	ran, err := RunChild()
	if !ran {
		t.Skip("not started as a child")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testSpawner starts this test binary again, running TestChild only.
func testSpawner() *exec.Cmd {
	return exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.count=1")
}

// TestSmoke runs every call scenario once at each in-flight level, so
// that a broken scenario shows up in CI without a benchmark run.
func TestSmoke(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name(), func(t *testing.T) {
			r, err := s.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			}()
			for _, inflight := range InFlight {
				if err := r.Run(inflight, inflight); err != nil {
					t.Fatalf("inflight=%d: %v", inflight, err)
				}
			}
		})
	}
}

// TestIdleSmoke measures a few idle connections of each library, through
// the same child process as the full measurement.
func TestIdleSmoke(t *testing.T) {
	for _, lib := range IdleLibs {
		t.Run(lib, func(t *testing.T) {
			res, err := MeasureIdle(lib, 20, testSpawner)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", res)
		})
	}
}

// TestFanoutSmoke calls a few clients at once, through the same child
// process as the full measurement, and checks every answer came back.
func TestFanoutSmoke(t *testing.T) {
	res, err := MeasureFanout(50, 2, testSpawner)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || len(res.Rounds) != 2 {
		t.Fatalf("%d failed replies, %d rounds: %+v", res.Failed, len(res.Rounds), res)
	}
	t.Logf("%+v", res)
}

// TestPublishSmoke publishes to a few subscribers through the same child
// process as the full measurement.
func TestPublishSmoke(t *testing.T) {
	for name, measure := range map[string]func(n, rounds int, spawn Spawner) (PublishResult, error){
		"hub": MeasurePublish, "hub, bare subscribers": MeasurePublishBare, "floor": MeasurePublishFloor,
	} {
		res, err := measure(50, 3, testSpawner)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Rounds) != 3 || res.ServerCPU <= 0 || res.ClientCPU <= 0 {
			t.Fatalf("%s: %+v", name, res)
		}
		t.Logf("%s: %+v", name, res)
	}
}

// TestPublish10k is the full publish measurement, when asked for with
// PARLEY_BENCH_PUBLISH=1: 10,000 subscribers, 5 rounds, the hub, the hub
// with bare subscribers and the floor in turn, twice.
func TestPublish10k(t *testing.T) {
	if os.Getenv("PARLEY_BENCH_PUBLISH") == "" {
		t.Skip("set PARLEY_BENCH_PUBLISH=1 to publish to 10,000 subscribers")
	}
	for range 2 {
		for _, m := range []struct {
			name    string
			measure func(n, rounds int, spawn Spawner) (PublishResult, error)
		}{{"hub", MeasurePublish}, {"hub, bare subscribers", MeasurePublishBare}, {"floor", MeasurePublishFloor}} {
			res, err := m.measure(10_000, 5, testSpawner)
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			t.Logf("%s: median %v, rounds %v, %.2f allocs and %.0f bytes per event on the server; CPU per round: server %v, clients %v",
				m.name, res.Median(), res.Rounds, res.AllocsPerEvent, res.BytesPerEvent, res.ServerCPU, res.ClientCPU)
		}
	}
}

// TestClusterFanoutSmoke runs the cluster's CallAll over three node
// processes with a few WebSocket clients each, through the same child
// processes as the full measurement, and checks every answer came back.
func TestClusterFanoutSmoke(t *testing.T) {
	res, err := MeasureClusterFanout(3, 20, 2, testSpawner)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || len(res.Rounds) != 2 || len(res.NodeCPU) != 3 || len(res.ClientCPU) != 3 {
		t.Fatalf("%+v", res)
	}
	t.Logf("%+v", res)
}

// TestClusterFanout30k is the full cluster measurement, when asked for
// with PARLEY_BENCH_CLUSTER=1: three node processes with 10,000
// WebSocket clients each (in processes of their own), 5 gathers from node
// 0; and, in the same run for a ratio, one node process with its 10,000
// clients, the same gathers (all local).
func TestClusterFanout30k(t *testing.T) {
	if os.Getenv("PARLEY_BENCH_CLUSTER") == "" {
		t.Skip("set PARLEY_BENCH_CLUSTER=1 to gather from 30,000 clients over three node processes")
	}
	var medians []time.Duration
	for _, nodes := range []int{1, 3} {
		res, err := MeasureClusterFanout(nodes, 10_000, 5, testSpawner)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed != 0 {
			t.Errorf("%d failed replies", res.Failed)
		}
		total := res.MainCPU
		for _, d := range append(res.NodeCPU, res.ClientCPU...) {
			total += d
		}
		t.Logf("%d node(s) x %d clients: median %v, rounds %v; CPU per gather: %v in all (nodes %v, clients %v, NATS %v, over %d gathers); GCs %v; node 0 heap %d MB idle, %d MB peak; connect %v",
			nodes, res.PerNode, res.Median(), res.Rounds, total/time.Duration(len(res.Rounds)), res.NodeCPU, res.ClientCPU, res.MainCPU, len(res.Rounds),
			res.NodeGCs, res.IdleBytes>>20, res.PeakBytes>>20, res.Connect)
		medians = append(medians, res.Median())
	}
	t.Logf("3 nodes, 30,000 clients vs 1 node, 10,000: %.2fx the time", float64(medians[1])/float64(medians[0]))
}
