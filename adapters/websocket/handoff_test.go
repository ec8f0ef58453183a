package websocket_test

import (
	"context"
	"errors"
	"testing"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// A call's handler runs on the connection's reading goroutine until it
// blocks; then the reading forks, so that a handler waiting for the next
// message of its own link, or for a cancellation, gets it.
func TestHandlerBlockingOnTheReader(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			started := make(chan struct{}, 1)
			release := make(chan struct{})
			cancelled := make(chan error, 1)
			r := rpc.NewRouter()
			mustRegister(t, r, "block", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
				started <- struct{}{}
				<-release
				return "released", nil
			}))
			mustRegister(t, r, "release", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
				close(release)
				return nil, nil
			}))
			mustRegister(t, r, "wait", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
				started <- struct{}{}
				<-ctx.Done()
				cancelled <- ctx.Err()
				return nil, ctx.Err()
			}))
			ts := startServer(t, &websocket.ServerOptions{Handler: r})
			client := dial(t, ts.url, &websocket.DialOptions{Codec: c})
			ctx := testCtx(t)

			// The first call runs on the reader and waits there: the
			// $/cancelRequest behind it still gets read.
			got := make(chan error, 1)
			callCtx, cancel := context.WithCancel(ctx)
			go func() { got <- client.Call(callCtx, "wait", nil, nil) }()
			<-started
			cancel()
			if err := <-got; !errors.Is(err, context.Canceled) {
				t.Fatalf("wait: %v, want context.Canceled", err)
			}
			if err := <-cancelled; !errors.Is(err, context.Canceled) {
				t.Fatalf("the handler's ctx ended with %v", err)
			}

			// "block" holds the reading goroutine until "release", which
			// is read once the reading has forked away from it. (A fresh
			// connection: after a fork, calls get goroutines of their own
			// for a while.)
			client = dial(t, ts.url, &websocket.DialOptions{Codec: c})
			go func() {
				var s string
				err := client.Call(ctx, "block", nil, &s)
				if err == nil && s != "released" {
					err = errors.New("block answered " + s)
				}
				got <- err
			}()
			<-started
			if err := client.Call(ctx, "release", nil, nil); err != nil {
				t.Fatalf("release: %v", err)
			}
			if err := <-got; err != nil {
				t.Fatalf("block: %v", err)
			}
		})
	}
}
