package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/nodetest"
)

// pageView is what examples/internal/browser/chat.mjs reads from one page.
type pageView struct {
	Status string   `json:"status"`
	Lines  []string `json:"lines"`
	Asked  int      `json:"asked"`
	Input  string   `json:"input"`
	Agent  string   `json:"agent"`
}

// TestChatInBrowser loads the demo's page in headless Chromium twice at
// once (alice and bob). Each page joins (a call), which makes the server
// call the page's clientInfo (server to client); alice and bob each say a
// line (calls) and see each other's line (the server's broadcast). The test
// checks what the pages show, and that the server got its clientInfo
// answer from the browser itself. The screenshot of alice's page goes to
// $PARLEY_SCREENSHOT when set.
func TestChatInBrowser(t *testing.T) {
	dir := extest.Browser(t)
	prog := startChat(t)
	shot := extest.Screenshot(t, "chat.png")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // typically 5-8 s; over 30 s on a heavily loaded machine
	defer cancel()
	out := nodetest.Run(ctx, t, dir, "chat.mjs", prog.URL, shot)
	var got struct {
		Alice, Bob pageView
		Errors     []string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("script output: %v\n%s", err, out)
	}
	if len(got.Errors) > 0 {
		t.Errorf("errors in the pages: %q", got.Errors)
	}

	for name, v := range map[string]pageView{"alice": got.Alice, "bob": got.Bob} {
		if v.Status != "connected as "+name {
			t.Errorf("%s's status: %q", name, v.Status)
		}
		// The page answered the server's clientInfo call, and shows it.
		if v.Asked != 1 || !hasPrefix(v.Lines, "server: asked clientInfo; this page answered ") {
			t.Errorf("%s's page does not show the server's clientInfo call: %q", name, v.Lines)
		}
		for _, want := range []string{"alice: hello from alice", "bob: hi alice, bob here"} {
			if !slices.Contains(v.Lines, want) {
				t.Errorf("%s's page lacks %q: %q", name, want, v.Lines)
			}
		}
		if v.Input != "" {
			t.Errorf("%s's input not cleared after sending: %q", name, v.Input)
		}
	}
	// Each page shows both arrivals once, in its history or as they
	// happened: they joined at the same time.
	for name, v := range map[string]pageView{"alice": got.Alice, "bob": got.Bob} {
		for _, who := range []string{"alice", "bob"} {
			if n := countPrefix(v.Lines, "server: "+who+" joined; their clock says "); n != 1 {
				t.Errorf("%s's page shows %s's arrival %d times: %q", name, who, n, v.Lines)
			}
		}
	}

	// Server side: the clientInfo answers came from the headless browser.
	for _, name := range []string{"alice", "bob"} {
		line, err := prog.Out.Wait(ctx, name+" joined lobby (their clock says ")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, "HeadlessChrome/") || !strings.Contains(line, got.Alice.Agent) {
			t.Errorf("the server's record of %s's clientInfo answer is not the browser's: %q", name, line)
		}
	}

	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
		t.Errorf("screenshot %s is not a PNG (%d bytes)", shot, len(png))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
}

func hasPrefix(lines []string, prefix string) bool { return countPrefix(lines, prefix) > 0 }

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}
