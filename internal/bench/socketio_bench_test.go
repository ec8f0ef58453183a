package bench

import "testing"

// BenchmarkSocketIO runs the Socket.IO scenarios (SocketIOScenarios) at
// every in-flight level, as BenchmarkSocketIO/<lib>/inflight=<n>, with
// the same metrics as BenchmarkCall. Compare sio4-parley-* with sio4-ack
// and sio2-parley-rpc with sio2-ack at the same level.
func BenchmarkSocketIO(b *testing.B) { benchScenarios(b, SocketIOScenarios()) }

// TestSocketIOSmoke runs every Socket.IO scenario briefly at each level.
func TestSocketIOSmoke(t *testing.T) { smokeScenarios(t, SocketIOScenarios()) }
