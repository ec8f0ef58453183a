package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
)

// key names one measured thing: a scenario at an in-flight level.
type key struct {
	Lib, Dir string
	InFlight int
}

func (k key) String() string { return fmt.Sprintf("%s/%s/inflight=%d", k.Lib, k.Dir, k.InFlight) }

// sample is one benchmark line's figures, by unit ("ns/op", "calls/s",
// "cpu-ns/call", "B/op", "allocs/op").
type sample map[string]float64

// results holds every pass's sample of every key; a pass that did not
// produce one has nil there.
type results struct {
	keys    []key // in table order
	samples map[key][]sample
}

// suiteDir finds the suite's package directory through the go command,
// so that the report works from anywhere inside the suite's module.
func suiteDir() (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", "github.com/parleyrpc/parley/internal/bench").Output()
	if err != nil {
		return "", fmt.Errorf("finding the suite (run from inside internal/bench): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// buildTests compiles the suite's test binary once, so that each run is
// only the benchmark.
func buildTests(dir, bin string) error {
	cmd := exec.Command("go", "test", "-c", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// scenarios lists the keys to measure: raw first at each level, then the
// libraries, in the order of bench.Scenarios; only filters all but raw.
func scenarios(only *regexp.Regexp) []key {
	var keys []key
	for _, inflight := range bench.InFlight {
		for _, s := range bench.Scenarios() {
			k := key{s.Lib, s.Dir, inflight}
			if s.Lib == "raw" || only == nil || only.MatchString(k.String()) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// runPasses runs every key once per pass, each in its own process, and
// rotates the order from pass to pass so that no scenario always follows
// the same one.
func runPasses(bin, dir string, keys []key, passes int, benchtime string) (*results, error) {
	res := &results{keys: keys, samples: make(map[key][]sample)}
	for _, k := range keys {
		res.samples[k] = make([]sample, passes)
	}
	for p := range passes {
		for i := range keys {
			k := keys[(i+p)%len(keys)]
			s, err := runOne(bin, dir, k, benchtime)
			if err != nil {
				return nil, fmt.Errorf("pass %d, %s: %w", p+1, k, err)
			}
			res.samples[k][p] = s
			logf("pass %d/%d  %-36s %9.0f ns/call %6.0f allocs", p+1, passes, k, s["ns/op"], s["allocs/op"])
		}
	}
	return res, nil
}

// runOne runs one key's benchmark in a process of its own.
func runOne(bin, dir string, k key, benchtime string) (sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pattern := "^BenchmarkCall$/^" + regexp.QuoteMeta(k.Lib) + "$/^" + k.Dir + "$/^inflight=" + strconv.Itoa(k.InFlight) + "$"
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$", "-test.bench="+pattern,
		"-test.benchtime="+benchtime, "-test.benchmem", "-test.count=1")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w\n%s%s", err, out, stderr.Bytes())
	}
	samples := parseBench(out)
	s, ok := samples[k.String()]
	if !ok {
		return nil, fmt.Errorf("no result line in:\n%s", out)
	}
	return s, nil
}

// procSuffix is the -GOMAXPROCS suffix of a benchmark name.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parseBench reads `go test -bench` output: each BenchmarkCall line's
// name (without its prefix and GOMAXPROCS suffix) and figures.
func parseBench(out []byte) map[string]sample {
	m := make(map[string]sample)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkCall/") {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "BenchmarkCall/"), "")
		s := sample{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			s[f[i+1]] = v
		}
		m[name] = s
	}
	return m
}
