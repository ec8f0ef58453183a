package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestCallsCrossNodes runs the program as `go run ./examples/cluster
// -port 0` does, waits for the demo's calls between nodes, and asks node 1
// over HTTP to call a client of node 3, a client nobody holds, and every
// client.
func TestCallsCrossNodes(t *testing.T) {
	p := extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, 0, true, out)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, line := range []string{
		`round 1: node1 called bob (on [node2]): "I am bob, connected to node2"`,
		`round 1: node2 called carol (on [node3]): "I am carol, connected to node3"`,
		`round 1: node3 called alice (on [node1]): "I am alice, connected to node1"`,
		`round 1: node2 called every client: [alice on node1: "I am alice, connected to node1"] [bob on node2: "I am bob, connected to node2"] [carol on node3: "I am carol, connected to node3"]`,
	} {
		if _, err := p.Out.Wait(ctx, line); err != nil {
			t.Fatal(err)
		}
	}
	var call struct{ Caller, ID, Answer, Error string }
	if code := getJSON(t, p.URL+"/call?id=carol", &call); code != http.StatusOK || call.Answer != "I am carol, connected to node3" || call.Caller != "node1" {
		t.Fatalf("/call?id=carol: %d %+v", code, call)
	}
	call.Error = ""
	if code := getJSON(t, p.URL+"/call?id=nobody", &call); code != http.StatusNotFound || !strings.Contains(call.Error, "unreachable") {
		t.Fatalf("/call?id=nobody: %d %+v", code, call)
	}
	var all struct {
		Replies []struct{ ID, Node, Answer, Error string }
	}
	getJSON(t, p.URL+"/all", &all)
	if len(all.Replies) != 3 {
		t.Fatalf("/all: %+v", all)
	}
	for i, want := range []string{"alice", "bob", "carol"} {
		r := all.Replies[i]
		if r.ID != want || r.Error != "" || !strings.HasPrefix(r.Answer, "I am "+want) {
			t.Fatalf("/all reply %d: %+v", i, r)
		}
	}
	var who struct {
		Nodes   []string
		Clients map[string][]string
	}
	getJSON(t, p.URL+"/who", &who)
	if len(who.Nodes) != 3 || len(who.Clients) != 3 || who.Clients["carol"][0] != "node3" {
		t.Fatalf("/who: %+v", who)
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode
}
