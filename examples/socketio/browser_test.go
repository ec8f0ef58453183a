package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/nodetest"
)

// TestPageInBrowser loads the example's page in headless Chromium, with
// socket.io-client served from node_modules: the page calls the server
// over Parley, answers the server's whoami call, and uses the server's own
// chat event; the test checks what the page shows and what the server
// printed. The screenshot goes to $PARLEY_SCREENSHOT when set.
func TestPageInBrowser(t *testing.T) {
	dir := extest.Browser(t)
	nodetest.Setup(t, ".") // the client library the page loads
	prog := startSocketIO(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // typically 5-8 s; up to 20 s on a loaded machine
	defer cancel()

	v := extest.RunPage(ctx, t, dir, prog.URL+"/", extest.Screenshot(t, "socketio.png"), extest.Plan{
		Steps: []extest.Step{
			{Wait: "#status", Match: `^connected as browser-\d+$`},
			{Wait: "#sum", Match: `^5$`},
			{Wait: "#hello", Match: `^Hello, browser-\d+! The server's clock says `},
			{Wait: "#asked", Match: `^whoami, answered browser-\d+$`},
			{Fill: "#text", Value: "hello from the page"},
			{Click: "#form button"},
			{Wait: "#chat", Match: `browser-\d+: hello from the page`},
		},
		Read: []string{"#status", "#asked"},
	})
	if len(v.Errors) > 0 {
		t.Errorf("errors in the page: %q", v.Errors)
	}
	name := regexp.MustCompile(`browser-\d+`).FindString(v.Texts["#status"])
	if name == "" || v.Texts["#asked"] != "whoami, answered "+name {
		t.Fatalf("page: %q", v.Texts)
	}
	line, err := prog.Out.Wait(ctx, "rpc: asked "+name+" who it is: ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, `"`+name+`"`) || !strings.Contains(line, "HeadlessChrome/") {
		t.Errorf("the server's record of the page's whoami answer: %q", line)
	}
	if _, err := prog.Out.Wait(ctx, "chat "+name+": hello from the page"); err != nil {
		t.Fatal(err)
	}
}
