package bench

import (
	"strconv"
	"testing"
)

// BenchmarkSocketIO runs the Socket.IO scenarios (SocketIOScenarios) at
// every in-flight level, as BenchmarkSocketIO/<lib>/inflight=<n>, with
// the same metrics as BenchmarkCall. Compare sio4-parley-* with sio4-ack
// and sio2-parley-rpc with sio2-ack at the same level.
func BenchmarkSocketIO(b *testing.B) {
	for _, s := range SocketIOScenarios() {
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

// TestSocketIOSmoke runs every Socket.IO scenario briefly at each level.
func TestSocketIOSmoke(t *testing.T) {
	for _, s := range SocketIOScenarios() {
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
