package sockjs_test

import (
	"context"
	"testing"

	"github.com/parleyrpc/parley/rpc"
)

// One call at a time from a Go client over the raw websocket endpoint,
// through sockjs-go and this adapter, per codec (CBOR travels as base64).
func BenchmarkCall(b *testing.B) {
	e := newEnv(b, nil)
	for _, prefix := range []string{"/rpc", "/cbor"} {
		b.Run(prefix[1:], func(b *testing.B) {
			c := e.mustDial(b, prefix, "bench", nil)
			ctx := context.Background()
			params := []int{1, 2}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rpc.Call[int](ctx, c.peer, "add", params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Many calls in flight at once on one session.
func BenchmarkCallParallel(b *testing.B) {
	e := newEnv(b, nil)
	for _, prefix := range []string{"/rpc", "/cbor"} {
		b.Run(prefix[1:], func(b *testing.B) {
			c := e.mustDial(b, prefix, "bench", nil)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := rpc.Call[int](ctx, c.peer, "add", []int{1, 2}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
