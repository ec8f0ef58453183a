package bench

import (
	"strconv"
	"testing"
)

// BenchmarkStream runs the byte-stream scenarios (StreamScenarios) at every
// in-flight level, as BenchmarkStream/<lib>/inflight=<n>, with the same
// metrics as BenchmarkCall. Compare each with stream-raw at the same
// level.
func BenchmarkStream(b *testing.B) { benchScenarios(b, StreamScenarios()) }

// TestStreamSmoke runs every byte-stream scenario briefly at each level.
func TestStreamSmoke(t *testing.T) { smokeScenarios(t, StreamScenarios()) }

// benchScenarios measures each scenario, each in a sub-benchmark named
// after its library, at every in-flight level.
func benchScenarios(b *testing.B, ss []Scenario) {
	for _, s := range ss {
		b.Run(s.Lib, func(b *testing.B) {
			r, err := s.Start()
			if err != nil {
				b.Fatalf("starting %s: %v", s.Lib, err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					b.Errorf("closing %s: %v", s.Lib, err)
				}
			}()
			for _, inflight := range InFlight {
				b.Run("inflight="+strconv.Itoa(inflight), func(b *testing.B) { measure(b, r, inflight) })
			}
		})
	}
}

// smokeScenarios runs each scenario briefly at every in-flight level.
func smokeScenarios(t *testing.T, ss []Scenario) {
	for _, s := range ss {
		t.Run(s.Lib, func(t *testing.T) {
			r, err := s.Start()
			if err != nil {
				t.Fatal(err)
			}
			for _, inflight := range InFlight {
				if err := r.Run(200, inflight); err != nil {
					t.Errorf("inflight=%d: %v", inflight, err)
				}
			}
			if err := r.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}
