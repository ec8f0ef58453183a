package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/nodetest"
)

// TestPageInBrowser loads the example's page in headless Chromium, with
// sockjs-client served from node_modules: the page calls the server and
// answers the server's whoami call; the test checks what the page shows
// and what the server printed. The screenshot goes to $PARLEY_SCREENSHOT
// when set.
func TestPageInBrowser(t *testing.T) {
	dir := extest.Browser(t)
	nodetest.Setup(t, ".") // the client library the page loads
	prog := startSockJS(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // typically 5-8 s; over 30 s on a heavily loaded machine
	defer cancel()

	v := extest.RunPage(ctx, t, dir, prog.URL+"/", extest.Screenshot(t, "sockjs.png"), extest.Plan{
		Steps: []extest.Step{
			{Wait: "#status", Match: `^connected over websocket as browser-\d+$`},
			{Wait: "#sum", Match: `^5$`},
			{Wait: "#hello", Match: `^Hello, browser-\d+! The server's clock says `},
			{Wait: "#asked", Match: `^whoami, answered browser-\d+ over websocket$`},
		},
		Read: []string{"#status", "#asked"},
	})
	if len(v.Errors) > 0 {
		t.Errorf("errors in the page: %q", v.Errors)
	}
	name := regexp.MustCompile(`browser-\d+`).FindString(v.Texts["#status"])
	if name == "" {
		t.Fatalf("page: %q", v.Texts)
	}
	if _, err := prog.Out.Wait(ctx, `is "`+name+`" over websocket`); err != nil {
		t.Fatal(err)
	}
}
