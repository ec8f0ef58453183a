package bench

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkCall runs every scenario at every in-flight level, as
// BenchmarkCall/<lib>/<dir>/inflight=<n>. Besides ns/op (wall time per
// call), B/op and allocs/op (both ends: they share the process), each
// reports calls/s, cpu-ns/call (the CPU time of the whole process per
// call), and reads/call and writes/call (system calls, both ends: fewer
// writes than two per call means messages were coalesced). Ratios to the
// raw echo are cmd/benchreport's to work out, from passes that interleave
// the scenarios.
func BenchmarkCall(b *testing.B) {
	runners := map[string]Runner{} // started on first use, kept for all of b.N's rounds
	b.Cleanup(func() {
		for name, r := range runners {
			if err := r.Close(); err != nil {
				b.Errorf("closing %s: %v", name, err)
			}
		}
	})
	all := Scenarios()
	for i, s := range all {
		if i > 0 && all[i-1].Lib == s.Lib {
			continue // run with the lib's first scenario
		}
		b.Run(s.Lib, func(b *testing.B) {
			for _, s := range all[i:] {
				if s.Lib != all[i].Lib {
					break
				}
				b.Run(s.Dir, func(b *testing.B) {
					for _, inflight := range InFlight {
						b.Run("inflight="+strconv.Itoa(inflight), func(b *testing.B) {
							r, ok := runners[s.Name()]
							if !ok {
								var err error
								if r, err = s.Start(); err != nil {
									b.Fatalf("starting %s: %v", s.Name(), err)
								}
								runners[s.Name()] = r
							}
							measure(b, r, inflight)
						})
					}
				})
			}
		})
	}
}

// measure times b.N calls and reports the suite's extra metrics.
func measure(b *testing.B, r Runner, inflight int) {
	b.ReportAllocs()
	b.ResetTimer()
	reads, writes := IOCalls()
	cpu := CPUTime()
	start := time.Now()
	err := r.Run(b.N, inflight)
	wall := time.Since(start)
	cpu = CPUTime() - cpu
	b.StopTimer()
	reads2, writes2 := IOCalls()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/wall.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/call")
	if reads2 > 0 {
		b.ReportMetric(float64(reads2-reads)/float64(b.N), "reads/call")
		b.ReportMetric(float64(writes2-writes)/float64(b.N), "writes/call")
	}
}
