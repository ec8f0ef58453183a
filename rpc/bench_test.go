package rpc_test

import (
	"context"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// BenchmarkCallPipe measures one call round trip over the in-memory pipe,
// both ends included: allocs/op counts the caller's and the callee's.
func BenchmarkCallPipe(b *testing.B) {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		b.Run(c.Name(), func(b *testing.B) {
			r := rpc.NewRouter()
			if err := r.Register("add", rpc.Func(add)); err != nil {
				b.Fatal(err)
			}
			_, cli := pair(b, []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(r)}, []rpc.Option{rpc.WithCodec(c)})
			ctx := context.Background()
			params := []int{1, 2}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				var got int
				if err := cli.Call(ctx, "add", params, &got); err != nil || got != 3 {
					b.Fatal(got, err)
				}
			}
		})
		b.Run(c.Name()+"/parallel", func(b *testing.B) {
			r := rpc.NewRouter()
			if err := r.Register("add", rpc.Func(add)); err != nil {
				b.Fatal(err)
			}
			_, cli := pair(b, []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(r)}, []rpc.Option{rpc.WithCodec(c)})
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				params := []int{1, 2}
				for pb.Next() {
					var got int
					if err := cli.Call(ctx, "add", params, &got); err != nil || got != 3 {
						b.Error(got, err)
						return
					}
				}
			})
		})
	}
}
