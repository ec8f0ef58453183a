package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
)

// TestPageCallsAcrossNodes loads node 1's page in headless Chromium as
// "web": the page shows its node and every client of every node; its
// button for carol (a client of node 3) makes node 1 call carol through
// NATS, and the page shows carol's answer. The page answers whoami too:
// the demo's CallAll, from every node in turn, reaches it, and node 3
// calls it by id.
func TestPageCallsAcrossNodes(t *testing.T) {
	dir := extest.Browser(t)
	p := extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, 0, true, out)
	})
	shot := extest.Screenshot(t, "cluster.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := p.Out.Wait(ctx, "every node sees"); err != nil {
		t.Fatal(err)
	}
	node3 := ""
	for _, l := range p.Out.Lines() {
		if rest, ok := strings.CutPrefix(l, "node3 on "); ok {
			node3, _, _ = strings.Cut(rest, " ")
		}
	}
	// While the page is open, node 3 calls it by id, over NATS.
	byNode3 := make(chan string, 1)
	go func() {
		for ctx.Err() == nil {
			var call struct{ Answer, Error string }
			resp, err := http.Get(node3 + "/call?id=web")
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&call)
				resp.Body.Close()
				if err == nil && resp.StatusCode == http.StatusOK {
					byNode3 <- call.Answer
					return
				}
			}
			time.Sleep(50 * time.Millisecond) // the page has not connected yet: no event to wait on here
		}
	}()
	v := extest.RunPage(ctx, t, dir, p.URL+"/?name=web", shot, extest.Plan{
		Steps: []extest.Step{
			{Wait: "#status", Match: "^connected to node1 as web$"},
			{Wait: "#clients", Match: "carolnode3"},
			{Click: "#call-carol"},
			{Wait: "#result", Match: "carol"},
			{Click: "#call-bob"},
			{Wait: "#result", Match: "bob"},
			{Wait: "#asked", Match: "^[2-9]|[1-9][0-9]"},
			{Wait: "#clients", Match: `web \(this page\)`},
		},
		Read: []string{"#status", "#node", "#nodes", "#result", "#clients"},
	})
	if len(v.Errors) > 0 {
		t.Errorf("errors in the page: %q", v.Errors)
	}
	if got, want := v.Texts["#result"], "node1 called bob on node2: I am bob, connected to node2"; got != want {
		t.Errorf("the page's last call shows %q, want %q", got, want)
	}
	if v.Texts["#node"] != "node1" || v.Texts["#nodes"] != "(node1, node2, node3)" {
		t.Errorf("the page's node: %q %q", v.Texts["#node"], v.Texts["#nodes"])
	}
	for _, want := range []string{"alicenode1 (this node)", "bobnode2", "carolnode3", "web (this page)node1 (this node)"} {
		if !strings.Contains(v.Texts["#clients"], want) {
			t.Errorf("the page's clients %q lack %q", v.Texts["#clients"], want)
		}
	}
	// Node 1 logged the calls the page asked for, answered by carol on
	// node 3.
	if _, err := p.Out.Wait(ctx, `node1: for web, called carol (on [node3]): "I am carol, connected to node3"`); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-byNode3:
		if got != "I am web, a browser on node1" {
			t.Errorf("node 3 calling the page: %q", got)
		}
	case <-ctx.Done():
		t.Fatal("node 3 never reached the page")
	}
	if _, err := os.Stat(shot); err != nil {
		t.Error(err)
	}
}
