package nats_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/rpc"
)

// three starts a NATS server and three nodes, each with its clients.
func three(t *testing.T, perNode int, opts *nats.Options) ([]*nats.Node, []*rpc.PeerSet) {
	t.Helper()
	srv := startNATS(t)
	var (
		nodes []*nats.Node
		sets  []*rpc.PeerSet
	)
	for i := range 3 {
		set := new(rpc.PeerSet)
		for j := range perNode {
			id := fmt.Sprintf("n%d-c%d", i, j)
			connect(t, set, id, whoami(id))
		}
		sets = append(sets, set)
		nodes = append(nodes, startNode(t, srv.URL(), fmt.Sprintf("n%d", i), set, opts))
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, "every node sees every client", sees(n, 3*perNode))
	}
	return nodes, sets
}

func TestCallReachesAClientOnAnotherNode(t *testing.T) {
	nodes, _ := three(t, 2, nil)
	ctx := ctxFor(t, 10*time.Second)
	for _, n := range nodes {
		for i := range 3 {
			id := fmt.Sprintf("n%d-c1", i)
			var got string
			if err := n.Call(ctx, id, "whoami", nil, &got); err != nil {
				t.Fatalf("%s calling %s: %v", n.Name(), id, err)
			}
			if got != id {
				t.Fatalf("%s calling %s: answer %q", n.Name(), id, got)
			}
		}
	}
	// params cross too, and a notification arrives.
	var echo map[string][]int
	if err := nodes[0].Call(ctx, "n2-c0", "echo", map[string][]int{"a": {1, 2, 3}}, &echo); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(echo["a"], []int{1, 2, 3}) {
		t.Fatalf("echo: %v", echo)
	}
	if err := nodes[0].Notify(ctx, "n2-c0", "whoami", nil); err != nil {
		t.Fatal(err)
	}
	if got := nodes[1].Where("n2-c0"); !slices.Equal(got, []string{"n2"}) {
		t.Fatalf("Where: %v", got)
	}
	if got := nodes[1].Nodes(); !slices.Equal(got, []string{"n0", "n1", "n2"}) {
		t.Fatalf("Nodes: %v", got)
	}
}

func TestRemoteErrorsCrossAsTheClients(t *testing.T) {
	nodes, _ := three(t, 1, nil)
	ctx := ctxFor(t, 10*time.Second)
	err := nodes[0].Call(ctx, "n1-c0", "fail", nil, nil)
	var e *rpc.Error
	if !errors.As(err, &e) || e.Code != 42 || e.Message != "no from n1-c0" || !rpc.IsRemote(err) {
		t.Fatalf("error %v (%T)", err, err)
	}
	var data map[string]int
	if raw, ok := e.Data.(rpc.Raw); !ok || raw.Decode(&data) != nil || data["n"] != 7 {
		t.Fatalf("error data %v", e.Data)
	}
	err = nodes[0].Call(ctx, "n1-c0", "nosuch", nil, nil)
	if !errors.Is(err, rpc.ErrMethodNotFound) {
		t.Fatalf("unknown method: %v", err)
	}
}

func TestUnknownIDIsUnreachableAtOnce(t *testing.T) {
	nodes, _ := three(t, 1, nil)
	start := time.Now()
	err := nodes[0].Call(context.Background(), "nobody", "whoami", nil, nil)
	if !errors.Is(err, nats.ErrUnreachable) || !errors.Is(err, rpc.ErrUnknownPeer) {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v: no-responders should answer at once", d)
	}
	err = nodes[0].Notify(context.Background(), "nobody", "whoami", nil)
	if !errors.Is(err, nats.ErrUnreachable) {
		t.Fatalf("notify: %v", err)
	}
}

func TestCancellingACallCancelsTheClientsHandler(t *testing.T) {
	srv := startNATS(t)
	var a, b rpc.PeerSet
	cancelled := make(chan struct{})
	started := make(chan struct{})
	h := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	})
	connect(t, &b, "slow", h)
	na := startNode(t, srv.URL(), "a", &a, nil)
	startNode(t, srv.URL(), "b", &b, nil)
	eventually(t, 10*time.Second, "a sees slow", sees(na, 1))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- na.Call(ctx, "slow", "x", nil, nil) }()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("call ended with %v", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's handler was not cancelled")
	}
}

func TestTheClientsLossEndsTheCallAtOnce(t *testing.T) {
	srv := startNATS(t)
	var a, b rpc.PeerSet
	started := make(chan struct{})
	h := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	c := connect(t, &b, "doomed", h)
	na := startNode(t, srv.URL(), "a", &a, nil)
	startNode(t, srv.URL(), "b", &b, nil)
	eventually(t, 10*time.Second, "a sees doomed", sees(na, 1))
	done := make(chan error, 1)
	go func() { done <- na.Call(context.Background(), "doomed", "x", nil, nil) }()
	<-started
	c.peer.Close() // the client goes away mid-call
	select {
	case err := <-done:
		if !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("call ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not end when the client left")
	}
}

func TestPresenceEventsFromEveryNode(t *testing.T) {
	srv := startNATS(t)
	rec := newRecorder()
	var a, b rpc.PeerSet
	startNode(t, srv.URL(), "a", &a, &nats.Options{OnJoin: rec.join, OnLeave: rec.leave})
	nb := startNode(t, srv.URL(), "b", &b, nil)
	c := connect(t, &b, "x.y *>", whoami("odd")) // an id that is no subject token
	rec.waitFor(t, "join b x.y *>")
	connect(t, &a, "local", whoami("local"))
	rec.waitFor(t, "join a local")
	c.server.Close()
	rec.waitFor(t, "leave b x.y *>")
	eventually(t, 10*time.Second, "b sees local only", func() bool { return slices.Equal(nb.IDs(), []string{"local"}) })
}

func TestCallAllGathersEveryClientOfEveryNode(t *testing.T) {
	nodes, sets := three(t, 20, nil)
	// One silent client on node 2 fails alone, by its timeout.
	connect(t, sets[2], "silent", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	eventually(t, 10*time.Second, "node 0 sees silent", sees(nodes[0], 61))
	replies := nats.CallAll[string](context.Background(), nodes[0], "whoami", nil, 300*time.Millisecond)
	if len(replies) != 61 {
		t.Fatalf("%d replies, want 61", len(replies))
	}
	seen := map[string]bool{}
	for _, r := range replies {
		if seen[r.ID] {
			t.Fatalf("two replies for %s", r.ID)
		}
		seen[r.ID] = true
		if r.ID == "silent" {
			if r.Err == nil || r.Node != "n2" {
				t.Fatalf("silent: %+v", r)
			}
			continue
		}
		if r.Err != nil || r.Result != r.ID || !strings.HasPrefix(r.ID, r.Node+"-") {
			t.Fatalf("reply %+v", r)
		}
	}
	notes := nodes[1].NotifyAll(context.Background(), "whoami", nil, time.Second)
	if len(notes) != 61 {
		t.Fatalf("%d notify replies", len(notes))
	}
	for _, r := range notes {
		if r.Err != nil {
			t.Fatalf("notify %s: %v", r.ID, r.Err)
		}
	}
}

func TestCBORClientsGetTheirOwnBytes(t *testing.T) {
	srv := startNATS(t)
	var a, b rpc.PeerSet
	connect(t, &b, "c", whoami("c"), rpc.WithCodec(cbor.Codec{}))
	opts := &nats.Options{Codecs: []codec.Codec{cbor.Codec{}}}
	na := startNode(t, srv.URL(), "a", &a, opts)
	startNode(t, srv.URL(), "b", &b, opts)
	eventually(t, 10*time.Second, "a sees c", sees(na, 1))
	ctx := ctxFor(t, 10*time.Second)
	var got struct {
		B []byte `json:"b" cbor:"b"`
		N int    `json:"n" cbor:"n"`
	}
	in := map[string]any{"b": []byte{0, 1, 255}, "n": 5}
	if err := na.Call(ctx, "c", "echo", in, &got); err != nil {
		t.Fatal(err)
	}
	if got.N != 5 || string(got.B) != "\x00\x01\xff" {
		t.Fatalf("echo %+v", got)
	}
	replies := nats.CallAll[map[string]any](ctx, na, "echo", map[string]int{"k": 1}, time.Second)
	if len(replies) != 1 || replies[0].Err != nil {
		t.Fatalf("%+v", replies)
	}
}
