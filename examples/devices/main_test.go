package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startServer runs the server as main does, on addr ("127.0.0.1:0" for a
// free port), asking the devices every interval.
func startServer(t *testing.T, addr string, every time.Duration) *extest.Program {
	return extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, addr, every, out)
	})
}

func wsURL(p *extest.Program) string { return "ws" + strings.TrimPrefix(p.URL, "http") + "/devices" }

// startDevice runs a device as `-device` does, until the test ends.
func startDevice(t *testing.T, serverURL, name string, loc *time.Location) *extest.Output {
	ctx, cancel := context.WithCancel(context.Background())
	out := extest.NewOutput(t.Log)
	done := make(chan error, 1)
	go func() { done <- runDevice(ctx, serverURL, name, loc, out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("device %s: %v", name, err)
		}
	})
	return out
}

func gatherNow(t *testing.T, ctx context.Context, base string) []Answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/gather", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answers []Answer
	if err := json.NewDecoder(resp.Body).Decode(&answers); err != nil {
		t.Fatal(err)
	}
	return answers
}

// TestGather connects two devices (one in Tokyo's time zone), then checks
// that the server gathers both answers: on GET /gather as JSON, and in the
// rounds it prints; and that each device saw the server's calls.
func TestGather(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "127.0.0.1:0", 50*time.Millisecond)
	kitchen := startDevice(t, wsURL(srv), "kitchen", tokyo)
	startDevice(t, wsURL(srv), "garage", time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"kitchen", "garage"} {
		if _, err := srv.Out.Wait(ctx, "device "+name+" connected"); err != nil {
			t.Fatal(err)
		}
	}

	answers := gatherNow(t, ctx, srv.URL)
	if len(answers) != 2 || answers[0].Device != "garage" || answers[1].Device != "kitchen" {
		t.Fatalf("gathered: %+v", answers)
	}
	for _, a := range answers {
		if a.Error != "" || a.Status == nil || a.Status.Name != a.Device {
			t.Fatalf("answer of %s: %+v", a.Device, a)
		}
		when, err := time.Parse(time.RFC3339, a.Status.Time)
		if err != nil || time.Since(when).Abs() > time.Minute {
			t.Errorf("%s's time %q: %v", a.Device, a.Status.Time, err)
		}
		if a.Status.Temperature < 18 || a.Status.Temperature > 24 {
			t.Errorf("%s's temperature %v", a.Device, a.Status.Temperature)
		}
	}
	if !strings.HasSuffix(answers[1].Status.Time, "+09:00") || !strings.HasSuffix(answers[0].Status.Time, "Z") {
		t.Errorf("time zones: garage %s, kitchen %s", answers[0].Status.Time, answers[1].Status.Time)
	}

	// A printed round with both devices: the round line, then one line each.
	i, _, err := srv.Out.WaitFunc(ctx, 0, func(l string) bool {
		return strings.HasPrefix(l, "round ") && strings.HasSuffix(l, "asked 2 device(s)")
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Out.WaitFunc(ctx, i+2, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	lines := srv.Out.Lines()
	if !strings.HasPrefix(lines[i+1], "  garage ") || !strings.HasPrefix(lines[i+2], "  kitchen ") || !strings.Contains(lines[i+2], "+09:00") {
		t.Errorf("round:\n%s\n%s\n%s", lines[i], lines[i+1], lines[i+2])
	}
	if _, err := kitchen.Wait(ctx, "kitchen: the server asked for my status"); err != nil {
		t.Fatal(err)
	}
}

// TestReconnect stops the server under a device and starts another on the
// same address: the device, which only dials out, notices, re-dials with
// backoff, and serves the new server's calls.
func TestReconnect(t *testing.T) {
	first := startServer(t, "127.0.0.1:0", 0)
	addr := strings.TrimPrefix(first.URL, "http://")
	dev := startDevice(t, wsURL(first), "cellar", time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := first.Out.Wait(ctx, "device cellar connected"); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Wait(ctx, "cellar: link lost"); err != nil {
		t.Fatal(err)
	}

	second := startServer(t, addr, 0)
	if _, err := second.Out.Wait(ctx, "device cellar connected"); err != nil {
		t.Fatal(err)
	}
	answers := gatherNow(t, ctx, second.URL)
	if len(answers) != 1 || answers[0].Status == nil || answers[0].Status.Name != "cellar" {
		t.Fatalf("gathered after the restart: %+v", answers)
	}
	connected := 0
	for _, l := range dev.Lines() {
		if strings.Contains(l, "cellar: connected to") {
			connected++
		}
	}
	if connected != 2 {
		t.Errorf("the device connected %d times:\n%s", connected, dev)
	}
}

// TestNames checks the server's guard on device names: a bad name is
// refused at the handshake, and a second device with the name of a live
// one is refused after the server asked the first whether it is there.
func TestNames(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, err := websocket.Dial(ctx, wsURL(srv)+"?name=no%20spaces", nil)
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad name: %v", err)
	}

	startDevice(t, wsURL(srv), "attic", time.UTC)
	if _, err := srv.Out.Wait(ctx, "device attic connected"); err != nil {
		t.Fatal(err)
	}
	impostor, err := websocket.Dial(ctx, wsURL(srv)+"?name=attic", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer impostor.Close()
	select {
	case <-impostor.Done():
	case <-ctx.Done():
		t.Fatal("the second device with a live device's name was not refused")
	}
	if _, err := srv.Out.Wait(ctx, "device attic refused: the name is in use by a live device"); err != nil {
		t.Fatal(err)
	}
	if answers := gatherNow(t, ctx, srv.URL); len(answers) != 1 || answers[0].Status == nil {
		t.Fatalf("the first device lost its place: %+v", answers)
	}
}
