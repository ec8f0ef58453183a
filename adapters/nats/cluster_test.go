package nats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/internal/natsserver"
	"github.com/parleyrpc/parley/rpc"
)

// The same nodes over a NATS cluster of three servers, one node on each:
// what a deployment with its own NATS cluster looks like.
func TestNodesOnDifferentServersOfANATSCluster(t *testing.T) {
	servers, err := natsserver.StartCluster(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range servers {
		t.Cleanup(s.Stop)
	}
	var nodes []*nats.Node
	for i, s := range servers {
		set := new(rpc.PeerSet)
		id := fmt.Sprint("c", i)
		connect(t, set, id, whoami(id))
		nodes = append(nodes, startNode(t, s.URL(), fmt.Sprint("n", i), set, nil))
	}
	for _, n := range nodes {
		eventually(t, 10*time.Second, "every node sees every client", sees(n, 3))
	}
	for _, n := range nodes {
		for i := range 3 {
			id := fmt.Sprint("c", i)
			// Interest crosses the cluster's routes a moment after the
			// join is announced: the first call may find no responder.
			eventually(t, 10*time.Second, n.Name()+" calls "+id, func() bool {
				var got string
				err := n.Call(ctxFor(t, 5*time.Second), id, "whoami", nil, &got)
				return err == nil && got == id
			})
		}
	}
	replies := nats.CallAll[string](ctxFor(t, 10*time.Second), nodes[1], "whoami", nil, 5*time.Second)
	if len(replies) != 3 {
		t.Fatalf("%d replies", len(replies))
	}
	for _, r := range replies {
		if r.Err != nil || r.Result != r.ID {
			t.Fatalf("%+v", r)
		}
	}
}
