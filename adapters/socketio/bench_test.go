package socketio_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/socketio"
)

// BenchmarkNodeCalls measures calls from socket.io-client 2.5.0 under
// node to the Go server over a local websocket: the round trip of one
// call at a time, and the throughput of many calls in flight. Node's own
// start-up is not counted: the script times its calls itself. Run it with
// -benchtime=1x; each iteration runs the script once.
func BenchmarkNodeCalls(b *testing.B) {
	const calls = 2000
	for _, codec := range []string{"json", "cbor"} {
		b.Run(codec, func(b *testing.B) {
			f := newFixture(b, socketio.ServerOptions{Handler: testRouter()}, nil)
			var seq, pipe time.Duration
			for range b.N {
				var res struct{ Sequential, Pipelined int64 }
				lastJSON(b, node(b, 60*time.Second, "bench.mjs", f.url, codec, strconv.Itoa(calls)), &res)
				seq += time.Duration(res.Sequential)
				pipe += time.Duration(res.Pipelined)
			}
			b.ReportMetric(float64(seq.Microseconds())/float64(b.N*calls), "µs/call-sequential")
			b.ReportMetric(float64(b.N*calls)/pipe.Seconds(), "calls/s-pipelined")
		})
	}
}
