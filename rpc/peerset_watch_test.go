package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

func TestWatchSeesJoinsAndLeavesBesideTheHooks(t *testing.T) {
	var (
		set    rpc.PeerSet
		mu     sync.Mutex
		hooks  []string
		events []string
	)
	set.OnJoin = func(id string, _ *rpc.Peer) { mu.Lock(); hooks = append(hooks, "join "+id); mu.Unlock() }
	left := make(chan string, 4)
	stop := set.Watch(func(id string, _ *rpc.Peer, joined bool) {
		mu.Lock()
		defer mu.Unlock()
		if joined {
			events = append(events, "join "+id)
			return
		}
		events = append(events, "leave "+id)
		left <- id
	})
	server, _ := pair(t, nil, nil)
	if _, err := set.Add("a", server); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if id := <-left; id != "a" {
		t.Fatalf("left %q", id)
	}
	stop()
	other, _ := pair(t, nil, nil)
	if _, err := set.Add("b", other); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 2 {
		t.Errorf("OnJoin calls %v, want 2", hooks)
	}
	if len(events) != 2 || events[0] != "join a" || events[1] != "leave a" {
		t.Errorf("watcher saw %v, want [join a leave a] and nothing after stop", events)
	}
}

func TestNewRawIsSentAsItIsAndRemoteErrorReadsAsRemote(t *testing.T) {
	echo := router(t, "echo", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		return req.Params(), nil
	}))
	server, client := pair(t, []rpc.Option{rpc.WithHandler(echo)}, nil)
	_ = server
	raw := rpc.NewRaw(json.Codec{}, []byte(`{"a":[1,2]}`))
	if raw.Codec() != (json.Codec{}) {
		t.Fatalf("Codec() = %v", raw.Codec())
	}
	var got map[string][]int
	if err := client.Call(testCtx(t), "echo", raw, &got); err != nil {
		t.Fatal(err)
	}
	if len(got["a"]) != 2 || got["a"][1] != 2 {
		t.Fatalf("echo gave %v", got)
	}
	e := rpc.RemoteError(rpc.CodeInvalidParams, "no", nil)
	if !rpc.IsRemote(e) || !errors.Is(e, rpc.ErrInvalidParams) {
		t.Fatalf("RemoteError: remote %v, is invalid params %v", rpc.IsRemote(e), errors.Is(e, rpc.ErrInvalidParams))
	}
}
