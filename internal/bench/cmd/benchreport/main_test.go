package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
	"github.com/parleyrpc/parley/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const benchOutput = `goos: linux
goarch: amd64
pkg: github.com/parleyrpc/parley/internal/bench
BenchmarkCall/raw/c2s/inflight=1-2         	   39937	     39084 ns/op	     25586 calls/s	     21934 cpu-ns/call	    1088 B/op	       5 allocs/op
BenchmarkCall/parley-json/c2s/inflight=64-2 	  152666	      7110 ns/op	    140652 calls/s	      7124 cpu-ns/call	    1089 B/op	      20 allocs/op
BenchmarkOther-2 	 1	 5 ns/op
PASS
`

// TestParseBench reads names without the GOMAXPROCS suffix and every
// value-unit pair.
func TestParseBench(t *testing.T) {
	got := parseBench([]byte(benchOutput))
	if len(got) != 2 {
		t.Fatalf("parsed %d lines, want 2: %v", len(got), got)
	}
	s := got["parley-json/c2s/inflight=64"]
	want := sample{"ns/op": 7110, "calls/s": 140652, "cpu-ns/call": 7124, "B/op": 1089, "allocs/op": 20}
	for unit, v := range want {
		if s[unit] != v {
			t.Errorf("%s = %v, want %v", unit, s[unit], v)
		}
	}
}

// TestRatioIsPerPass divides each pass by the raw echo of the same pass,
// then takes the median: a pass where everything ran twice as slow does
// not move the ratio, and a pass missing either side is left out.
func TestRatioIsPerPass(t *testing.T) {
	raw := key{"raw", "c2s", 1}
	lib := key{"parley-json", "c2s", 1}
	res := &results{keys: []key{raw, lib}, samples: map[key][]sample{
		raw: {{"ns/op": 100}, {"ns/op": 200}, {"ns/op": 100}, nil},
		lib: {{"ns/op": 120}, {"ns/op": 240}, {"ns/op": 150}, {"ns/op": 1}},
	}}
	r := res.ratio(lib, "ns/op")
	if r.N != 3 || math.Abs(r.Med-1.2) > 1e-9 || math.Abs(r.Min-1.2) > 1e-9 || math.Abs(r.Max-1.5) > 1e-9 {
		t.Errorf("ratio = %+v, want median 1.2, min 1.2, max 1.5 over 3 passes", r)
	}
	f := res.figure(lib, "ns/op")
	if f.N != 4 || f.Med != 135 || f.Min != 1 || f.Max != 240 {
		t.Errorf("figure = %+v, want median 135 over 4 passes", f)
	}
}

// TestReport writes the markdown and the chart for made-up results, with
// every section, and checks the chart is a PNG of the expected size.
func TestReport(t *testing.T) {
	keys := scenarios(nil)
	res := &results{keys: keys, samples: map[key][]sample{}}
	for i, k := range keys {
		res.samples[k] = []sample{
			{"ns/op": float64(1000 + 100*i), "calls/s": 1, "cpu-ns/call": 900, "B/op": 1000, "allocs/op": 18},
			{"ns/op": float64(1100 + 100*i), "calls/s": 1, "cpu-ns/call": 900, "B/op": 1000, "allocs/op": 18},
		}
	}
	r := &report{
		started: time.Now(), finished: time.Now(), machine: describeMachine(), passes: 2, benchtime: "1s", results: res,
		idle: []bench.IdleResult{
			{Lib: "raw", Conns: 10, ServerBytesPerConn: 1000, ServerGoroutinesPerConn: 1, ClientBytesPerConn: 1000, ClientGoroutinesPerConn: 1},
			{Lib: "parley", Conns: 10, ServerBytesPerConn: 1100, ServerGoroutinesPerConn: 1, ClientBytesPerConn: 1300, ClientGoroutinesPerConn: 1},
		},
		fanout:       &bench.FanoutResult{Clients: 10, Rounds: []time.Duration{time.Millisecond}},
		publish:      &bench.PublishResult{Subscribers: 10, Rounds: []time.Duration{3 * time.Millisecond}, ServerCPU: 20 * time.Microsecond, ClientCPU: 30 * time.Microsecond},
		publishBare:  &bench.PublishResult{Subscribers: 10, Rounds: []time.Duration{2500 * time.Microsecond}, ServerCPU: 20 * time.Microsecond, ClientCPU: 15 * time.Microsecond},
		publishFloor: &bench.PublishResult{Subscribers: 10, Rounds: []time.Duration{2 * time.Millisecond}, ServerCPU: 10 * time.Microsecond, ClientCPU: 15 * time.Microsecond},
	}
	for _, d := range bench.PushDelays {
		for i, lib := range bench.PushLibs {
			x := bench.PushResult{Lib: lib, Delay: d}
			for j := range 1000 { // 1 to 1,000 µs, sourcegraph's twice as long, the floor's three times
				x.Latencies = append(x.Latencies, time.Duration((j+1)*(i+1))*time.Microsecond)
				x.Gaps = append(x.Gaps, d)
			}
			r.push = append(r.push, x)
		}
	}
	// Saved and loaded again, the report reads the same.
	saved := filepath.Join(t.TempDir(), "results", "latest.json")
	if err := r.save(saved); err != nil {
		t.Fatal(err)
	}
	again, err := load(saved)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := again.markdown("ratio.png"), r.markdown("ratio.png"); a != b {
		t.Errorf("loaded report differs:\n%s\n---\n%s", a, b)
	}

	md := r.markdown("ratio.png")
	for _, want := range []string{"## Calls", "| parley-json c2s | 64 |", "## Idle connections", "| Parley ÷ raw | 1.10 |", "## Fan-out", "## Targets", "| yes |",
		"## Server pushes", "| 0.2 ms (200 µs) | Parley | 500 µs | 990 µs | 999 µs | 1.00 ms | 0 |",
		"| 3 ms (3.00 ms) | sourcegraph/jsonrpc2 | 1.00 ms | 1.98 ms | 2.00 ms | 2.00 ms | 0 |",
		"| push p99.9 no worse than sourcegraph/jsonrpc2's, at each delay | 0 ms: 999 µs vs 2.00 ms; 0.2 ms: 999 µs vs 2.00 ms; 1 ms: 999 µs vs 2.00 ms; 3 ms: 999 µs vs 2.00 ms | yes |",
		"| no push above 2 ms on an idle machine (see the load average) | 0 of 4000 Parley pushes above; the longest 1.00 ms (the raw floor: 1336 of 4000) | yes |",
		"| 1 ms (1.00 ms) | raw gorilla (floor) | 1.50 ms | 2.97 ms | 3.00 ms | 3.00 ms | 334 |", "| max | over 2 ms |", "; the raw relay ",
		"| hub | 3 ms | 3 ms | 2.0 µs | 3.0 µs |", "| raw floor | 2 ms | 2 ms | 1.0 µs | 1.5 µs |", "the raw floor's median 2 ms (1.50×) | yes |", "| hub, bare subscribers | 2 ms | 2 ms | 2.0 µs | 1.5 µs |", "; to bare subscribers, median 2 ms; the raw", "; with the callee's handler rpc.Inline "} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	path := filepath.Join(t.TempDir(), "ratio.png")
	if err := writeChart(path, r); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != chartW || cfg.Height != chartH {
		t.Errorf("chart is %dx%d, want %dx%d", cfg.Width, cfg.Height, chartW, chartH)
	}
}
