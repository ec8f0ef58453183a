package bench

import (
	"strconv"
	"testing"
)

// BenchmarkStream runs the byte-stream scenarios (StreamScenarios) at every
// in-flight level, as BenchmarkStream/<lib>/inflight=<n>, with the same
// metrics as BenchmarkCall. Compare each with stream-raw at the same
// level.
func BenchmarkStream(b *testing.B) {
	for _, s := range StreamScenarios() {
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

// TestStreamSmoke runs every byte-stream scenario briefly at each level.
func TestStreamSmoke(t *testing.T) {
	for _, s := range StreamScenarios() {
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
