// Command benchreport runs Parley's side-by-side benchmark suite the way
// a noisy machine needs: each scenario of BenchmarkCall in a process of
// its own, all scenarios round-robin, for several passes, so that a fast
// or slow phase of the machine hits every library alike. It prints a
// markdown table of medians and min-max, with each figure also as a ratio
// to the raw gorilla echo measured in the same pass, and writes that
// table, the push-latency, idle-connection and fan-out measurements and
// the targets to RESULTS.md, and a bar chart of the ratios to ratio.png.
//
// Run it from the suite's module (internal/bench):
//
//	go run ./cmd/benchreport
//
// Flags choose the number of passes, the time per benchmark, a subset of
// scenarios, and whether to measure server pushes, idle connections and
// the fan-out.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
)

func main() {
	if ran, err := bench.RunChild(); ran {
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	calls     bool
	passes    int
	benchtime string
	only      *regexp.Regexp
	push      bool
	pushes    int
	idle      bool
	conns     int
	fanout    bool
	publish   bool
	clients   int
	rounds    int
	out, png  string
	save      string
	from      string
}

func run() error {
	var (
		c    config
		only string
	)
	flag.BoolVar(&c.calls, "calls", true, "run the call benchmarks")
	flag.IntVar(&c.passes, "passes", 5, "interleaved passes over all scenarios")
	flag.StringVar(&c.benchtime, "benchtime", "1s", "-test.benchtime of each scenario's run")
	flag.StringVar(&only, "run", "", "only the scenarios whose name (lib/dir/inflight=N) matches this regexp; raw always runs")
	flag.BoolVar(&c.push, "push", true, "measure server pushes' latency")
	flag.IntVar(&c.pushes, "pushes", 3000, "pushes per library and delay")
	flag.BoolVar(&c.idle, "idle", true, "measure idle connections")
	flag.IntVar(&c.conns, "conns", 1000, "idle connections to open")
	flag.BoolVar(&c.fanout, "fanout", true, "measure the fan-out")
	flag.BoolVar(&c.publish, "publish", true, "measure a hub's publish to as many subscribers as -clients")
	flag.IntVar(&c.clients, "clients", 10000, "fan-out clients")
	flag.IntVar(&c.rounds, "rounds", 5, "fan-out gathers")
	flag.StringVar(&c.out, "out", "RESULTS.md", "markdown report to write, relative to the suite's directory; empty: none")
	flag.StringVar(&c.png, "png", "ratio.png", "chart to write, relative to the suite's directory; empty: none")
	flag.StringVar(&c.save, "save", "results/latest.json", "every figure as JSON, relative to the suite's directory (git-ignored); empty: none")
	flag.StringVar(&c.from, "from", "", "measure nothing: make the report and chart again from a file -save wrote")
	flag.Parse()
	if c.passes < 1 {
		return fmt.Errorf("-passes %d: need at least one", c.passes)
	}
	if c.pushes < 1 {
		return fmt.Errorf("-pushes %d: need at least one", c.pushes)
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		c.only = re
	}

	dir, err := suiteDir()
	if err != nil {
		return err
	}
	var rep *report
	if c.from != "" {
		if rep, err = load(inDir(dir, c.from)); err != nil {
			return err
		}
	} else {
		if rep, err = measure(c, dir); err != nil {
			return err
		}
		if c.save != "" {
			path := inDir(dir, c.save)
			if err := rep.save(path); err != nil {
				return err
			}
			logf("wrote %s", path)
		}
	}
	fmt.Println(rep.callTable())
	fmt.Println(rep.pushTable())
	fmt.Println(rep.idleTable())
	fmt.Println(rep.fanoutText())
	fmt.Println(rep.targetsTable())

	if c.png != "" && len(rep.results.keys) > 0 {
		path := inDir(dir, c.png)
		if err := writeChart(path, rep); err != nil {
			return err
		}
		logf("wrote %s", path)
	}
	if c.out != "" {
		path := inDir(dir, c.out)
		if err := os.WriteFile(path, []byte(rep.markdown(c.png)), 0o644); err != nil {
			return err
		}
		logf("wrote %s", path)
	}
	return nil
}

// measure makes the measurements c asks for.
func measure(c config, dir string) (*report, error) {
	rep := &report{started: time.Now(), machine: describeMachine(), passes: c.passes, benchtime: c.benchtime,
		results: &results{samples: map[key][]sample{}}}
	if c.calls {
		tmp, err := os.MkdirTemp("", "benchreport")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		bin := filepath.Join(tmp, "bench.test")
		logf("building the suite's test binary")
		if err := buildTests(dir, bin); err != nil {
			return nil, err
		}
		if rep.results, err = runPasses(bin, dir, scenarios(c.only), c.passes, c.benchtime); err != nil {
			return nil, err
		}
	}
	if c.push {
		logf("push: %d pushes per library and delay", c.pushes)
		res, err := bench.MeasurePush(c.pushes, bench.SelfSpawner())
		if err != nil {
			return nil, fmt.Errorf("push: %w", err)
		}
		rep.push = res
	}
	if c.idle {
		for _, lib := range bench.IdleLibs {
			logf("idle: %d %s connections", c.conns, lib)
			res, err := bench.MeasureIdleFresh(lib, c.conns, bench.SelfSpawner())
			if err != nil {
				return nil, fmt.Errorf("idle %s: %w", lib, err)
			}
			rep.idle = append(rep.idle, res)
		}
	}
	if c.fanout {
		logf("fan-out: %d clients, %d gathers", c.clients, c.rounds)
		res, err := bench.MeasureFanoutFresh(c.clients, c.rounds, bench.SelfSpawner())
		if err != nil {
			return nil, fmt.Errorf("fan-out: %w", err)
		}
		rep.fanout = &res
	}
	if c.publish {
		logf("publish: %d subscribers, %d rounds", c.clients, c.rounds)
		res, err := bench.MeasurePublishFresh(c.clients, c.rounds, bench.SelfSpawner())
		if err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
		rep.publish = &res
		logf("publish: %d bare subscribers, %d rounds", c.clients, c.rounds)
		bare, err := bench.MeasurePublishBareFresh(c.clients, c.rounds, bench.SelfSpawner())
		if err != nil {
			return nil, fmt.Errorf("publish, bare subscribers: %w", err)
		}
		rep.publishBare = &bare
		logf("publish floor: %d raw subscribers, %d rounds", c.clients, c.rounds)
		floor, err := bench.MeasurePublishFloorFresh(c.clients, c.rounds, bench.SelfSpawner())
		if err != nil {
			return nil, fmt.Errorf("publish floor: %w", err)
		}
		rep.publishFloor = &floor
	}
	rep.finished = time.Now()
	rep.machine.LoadEnd = loadAverage()
	return rep, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// inDir resolves a relative output path against the suite's directory.
func inDir(dir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}
