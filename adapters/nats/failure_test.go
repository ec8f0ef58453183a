package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/rpc"
)

// dial connects to NATS for a node that is given its connection.
func dial(t testing.TB, url string) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(url, natsgo.MaxReconnects(-1), natsgo.ReconnectWait(20*time.Millisecond), natsgo.ReconnectJitter(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// failBound is how soon a node that went silent leaves the others' view:
// three of its heartbeats and one sweep of the observer, with room for a
// slow machine.
const failBound = 3*testHeartbeat + testHeartbeat + 2*time.Second

func TestADeadNodeLeavesTheViewAndEndsCallsToIt(t *testing.T) {
	srv := startNATS(t)
	rec := newRecorder()
	var a, b rpc.PeerSet
	started := make(chan struct{}, 1)
	connect(t, &b, "stuck", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	na := startNode(t, srv.URL(), "a", &a, &nats.Options{OnLeave: rec.leave})
	ncB := dial(t, srv.URL())
	startNode(t, "", "b", &b, &nats.Options{Conn: ncB})
	eventually(t, 10*time.Second, "a sees stuck", sees(na, 1))

	done := make(chan error, 1)
	go func() { done <- na.Call(context.Background(), "stuck", "x", nil, nil) }()
	<-started
	killed := time.Now()
	ncB.Close() // b dies: no goodbye, its subscriptions and heartbeats stop
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrUnreachable) {
			t.Fatalf("call ended with %v", err)
		}
		if d := time.Since(killed); d > failBound {
			t.Fatalf("call ended after %v, bound %v", d, failBound)
		}
	case <-time.After(failBound):
		t.Fatal("the call to the dead node's client did not end within the bound")
	}
	rec.waitFor(t, "leave b stuck")
	if ids := na.IDs(); len(ids) != 0 {
		t.Fatalf("a still sees %v", ids)
	}
	err := na.Call(context.Background(), "stuck", "x", nil, nil)
	if !errors.Is(err, nats.ErrUnreachable) {
		t.Fatalf("a later call: %v", err)
	}
}

func TestAClosedNodeLeavesAtOnce(t *testing.T) {
	srv := startNATS(t)
	rec := newRecorder()
	var a, b rpc.PeerSet
	connect(t, &b, "x", whoami("x"))
	na := startNode(t, srv.URL(), "a", &a, &nats.Options{OnLeave: rec.leave, Heartbeat: time.Hour})
	nb := startNode(t, srv.URL(), "b", &b, &nats.Options{Heartbeat: time.Hour})
	eventually(t, 10*time.Second, "a sees x", sees(na, 1))
	nb.Close()
	rec.waitFor(t, "leave b x") // by the goodbye: heartbeats are an hour apart
	if err := nb.Call(context.Background(), "y", "m", nil, nil); !errors.Is(err, nats.ErrClosed) {
		t.Fatalf("call on a closed node: %v", err)
	}
}

func TestANATSRestartEndsCallsInFlightAndHeals(t *testing.T) {
	srv := startNATS(t)
	var a, b rpc.PeerSet
	started := make(chan struct{}, 1)
	connect(t, &b, "stuck", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	connect(t, &b, "ok", whoami("ok"))
	na := startNode(t, srv.URL(), "a", &a, nil)
	startNode(t, srv.URL(), "b", &b, nil)
	eventually(t, 10*time.Second, "a sees b's clients", sees(na, 2))

	done := make(chan error, 1)
	go func() { done <- na.Call(context.Background(), "stuck", "x", nil, nil) }()
	<-started
	srv.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, nats.ErrUnreachable) {
			t.Fatalf("call in flight ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight did not end when NATS went away")
	}
	// While NATS is down, calls fail at once.
	if err := na.Call(context.Background(), "ok", "whoami", nil, nil); !errors.Is(err, nats.ErrUnreachable) {
		t.Fatalf("call while NATS is down: %v", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The cluster heals by itself.
	eventually(t, 10*time.Second, "a calls ok again", func() bool {
		var got string
		err := na.Call(ctxFor(t, time.Second), "ok", "whoami", nil, &got)
		return err == nil && got == "ok"
	})
	eventually(t, 10*time.Second, "a sees b's clients again", sees(na, 2))
}

func TestAClientThatMovesToAnotherNodeIsReachableThere(t *testing.T) {
	srv := startNATS(t)
	var a, b rpc.PeerSet
	na := startNode(t, srv.URL(), "a", &a, nil)
	nb := startNode(t, srv.URL(), "b", &b, nil)
	old := connect(t, &a, "roamer", whoami("on a"))
	eventually(t, 10*time.Second, "b sees roamer on a", func() bool { return len(nb.Where("roamer")) == 1 })
	connect(t, &b, "roamer", whoami("on b")) // it reconnected to b before a noticed
	select {
	case <-old.server.Done(): // the newer connection wins: a let go of the old one
	case <-time.After(10 * time.Second):
		t.Fatal("node a kept the older connection")
	}
	eventually(t, 10*time.Second, "roamer is on b only", func() bool {
		w := na.Where("roamer")
		return len(w) == 1 && w[0] == "b"
	})
	var got string
	if err := na.Call(ctxFor(t, 10*time.Second), "roamer", "whoami", nil, &got); err != nil || got != "on b" {
		t.Fatalf("call: %q, %v", got, err)
	}
}

func TestCallAllReportsADeadNodesClients(t *testing.T) {
	srv := startNATS(t)
	var a, b, c rpc.PeerSet
	for i := range 5 {
		connect(t, &b, fmt.Sprint("b", i), whoami("b"))
		connect(t, &c, fmt.Sprint("c", i), whoami("c"))
	}
	na := startNode(t, srv.URL(), "a", &a, nil)
	startNode(t, srv.URL(), "b", &b, nil)
	ncC := dial(t, srv.URL())
	startNode(t, "", "c", &c, &nats.Options{Conn: ncC})
	eventually(t, 10*time.Second, "a sees every client", sees(na, 10))
	ncC.Close()
	// Within the bound, the dead node's clients are reported unreachable,
	// not awaited for the whole timeout.
	start := time.Now()
	replies := nats.CallAll[string](context.Background(), na, "whoami", nil, time.Minute)
	if d := time.Since(start); d > failBound {
		t.Fatalf("CallAll took %v", d)
	}
	if len(replies) != 10 {
		t.Fatalf("%d replies", len(replies))
	}
	for _, r := range replies {
		switch r.Node {
		case "b":
			if r.Err != nil || r.Result != "b" {
				t.Fatalf("%+v", r)
			}
		case "c":
			if !errors.Is(r.Err, nats.ErrUnreachable) {
				t.Fatalf("%+v", r)
			}
		default:
			t.Fatalf("%+v", r)
		}
	}
}
