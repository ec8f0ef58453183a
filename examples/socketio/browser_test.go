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
// socket.io-client 4 served from node_modules: the page calls the server
// with emitWithAck (a result, the name from its handshake, an error for
// wrong params), answers the server's whoami call through an
// acknowledgement, and uses the server's own chat event; the test checks
// what the page shows and what the server printed. The screenshot goes to
// $PARLEY_SCREENSHOT when set.
func TestPageInBrowser(t *testing.T) {
	testPage(t, false, "socketio.png", []extest.Step{
		{Wait: "#status", Match: `^connected as browser-\d+$`},
		{Wait: "#sum", Match: `^5$`},
		{Wait: "#hello", Match: `^Hello, browser-\d+! The server's clock says `},
		{Wait: "#bad", Match: `^error -32602: `},
		{Wait: "#asked", Match: `^whoami, answered browser-\d+$`},
	})
}

// TestLegacyPageInBrowser does the same with the -legacy program: the
// go-socket.io server, socket.io-client 2, JSON-RPC on the "rpc" event.
func TestLegacyPageInBrowser(t *testing.T) {
	testPage(t, true, "socketio-legacy.png", []extest.Step{
		{Wait: "#status", Match: `^connected as browser-\d+$`},
		{Wait: "#sum", Match: `^5$`},
		{Wait: "#hello", Match: `^Hello, browser-\d+! The server's clock says `},
		{Wait: "#asked", Match: `^whoami, answered browser-\d+$`},
	})
}

func testPage(t *testing.T, legacy bool, shot string, steps []extest.Step) {
	dir := extest.Browser(t)
	nodetest.Setup(t, ".") // the client library the page loads
	prog := startSocketIO(t, "", legacy)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second) // typically 5-8 s; over 30 s on a heavily loaded machine
	defer cancel()

	v := extest.RunPage(ctx, t, dir, prog.URL+"/", extest.Screenshot(t, shot), extest.Plan{
		Steps: append(steps,
			extest.Step{Fill: "#text", Value: "hello from the page"},
			extest.Step{Click: "#form button"},
			extest.Step{Wait: "#chat", Match: `browser-\d+: hello from the page`},
		),
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
