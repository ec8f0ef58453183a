package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func startRouted(t *testing.T) *extest.Program {
	return extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", out)
	})
}

// TestRoutedCalls plays the page's part from Go: it calls the device's
// procedures through the hub, with and without partial results; a second
// device registering the same name is refused (one registrant per name);
// and once that device has gone, a call to a procedure only it had fails
// with "no such procedure".
func TestRoutedCalls(t *testing.T) {
	prog := startRouted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := prog.Out.Wait(ctx, "thermo-1 registered device.temperature and device.scan"); err != nil {
		t.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(prog.URL, "http") + "/rpc"
	page, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()

	var r Reading
	if err := page.Call(ctx, hub.MethodCall, map[string]any{"procedure": "device.temperature"}, &r); err != nil || r != (Reading{"thermo-1", 21.5}) {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := prog.Out.Wait(ctx, "thermo-1: asked for the temperature"); err != nil {
		t.Fatal(err)
	}
	var steps []string
	var done string
	err = rpc.CallWithProgress(ctx, page, hub.MethodCall, map[string]any{"procedure": "device.scan", "params": map[string]int{"steps": 3}}, &done,
		func(v rpc.Raw) {
			var s string
			v.Decode(&s)
			steps = append(steps, s)
		})
	if err != nil || done != "thermo-1: scan done" || strings.Join(steps, " ") != "1/3 2/3 3/3" {
		t.Fatalf("scan: %q %q %v", done, steps, err)
	}
	if err := page.Call(ctx, hub.MethodCall, map[string]any{"procedure": "device.scan", "params": map[string]int{"steps": 0}}, nil); !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("a bad scan: %v", err)
	}

	// Another device: the names are taken; its own is not, until it goes.
	dev2, err := connectDevice(ctx, url, "thermo-2", io.Discard)
	if !errors.Is(err, hub.ErrProcedureExists) {
		t.Fatalf("a second device took the names: %v", err)
	}
	if dev2 != nil {
		dev2.Close()
	}
	if err := page.Call(ctx, hub.MethodCall, map[string]any{"procedure": "device.reboot"}, nil); !errors.Is(err, hub.ErrNoSuchProcedure) {
		t.Fatalf("an unregistered procedure: %v", err)
	}
}

// TestRoutedInBrowser presses the page's buttons in headless Chromium: the
// page's calls go through the hub to the device, and the scan's partial
// results show before its answer. The page also subscribes to a topic and
// publishes to it (its note comes back), and registers a procedure of its
// own, which a Go client calls through the hub while the page is open.
func TestRoutedInBrowser(t *testing.T) {
	dir := extest.Browser(t)
	prog := startRouted(t)
	shot := extest.Screenshot(t, "routed.png")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := prog.Out.Wait(ctx, "registered device.temperature"); err != nil {
		t.Fatal(err)
	}
	// A Go client calls the page's own procedure once the page has it.
	url := "ws" + strings.TrimPrefix(prog.URL, "http") + "/rpc"
	caller, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	answered := make(chan string, 1)
	go func() {
		for ctx.Err() == nil {
			var s string
			err := caller.Call(ctx, hub.MethodCall, map[string]any{"procedure": "page.confirm"}, &s)
			if err == nil {
				answered <- s
				return
			}
			if !errors.Is(err, hub.ErrNoSuchProcedure) {
				answered <- err.Error()
				return
			}
			time.Sleep(20 * time.Millisecond) // the page has not registered yet: no event to wait on here
		}
	}()
	v := extest.RunPage(ctx, t, dir, prog.URL+"/", shot, extest.Plan{
		Steps: []extest.Step{
			{Wait: "#status", Match: "^connected$"},
			{Click: "#read"},
			{Wait: "#result", Match: "°C"},
			{Click: "#scan"},
			{Wait: "#result", Match: "scan done"},
			{Click: "#note"},
			{Wait: "#notes", Match: "hello from the page"},
			{Wait: "#confirmed", Match: "^1$"},
		},
		Read: []string{"#result", "#progress", "#status", "#notes", "#confirmed"},
	})
	select {
	case got := <-answered:
		if got != "confirmed by the page" {
			t.Errorf("page.confirm through the hub: %q", got)
		}
	case <-ctx.Done():
		t.Error("page.confirm was never answered")
	}
	if len(v.Errors) > 0 {
		t.Errorf("errors in the page: %q", v.Errors)
	}
	if v.Texts["#result"] != "thermo-1: scan done" || v.Texts["#progress"] != "1/3 2/3 3/3" ||
		v.Texts["#notes"] != "lab.notes: hello from the page; " || v.Texts["#confirmed"] != "1" {
		t.Errorf("the page shows %q", v.Texts)
	}
	if _, err := prog.Out.Wait(ctx, "thermo-1: asked for the temperature"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(shot); err != nil {
		t.Error(err)
	}
}
