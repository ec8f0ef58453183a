package main

import (
	"context"
	"errors"
	"io"
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

// startChat runs the program as main does, on a free port.
func startChat(t *testing.T) *extest.Program {
	return extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", out)
	})
}

// TestChat drives the demo with Go clients playing the browser's part:
// ada joins the lobby (and answers the server's clientInfo call), says a
// line and gets it back as an event of the lobby's topic; a second client
// cannot take her name, joins under another, gets the history, and ada
// hears it come and go; a client in another room hears none of it. The
// server prints the joins.
func TestChat(t *testing.T) {
	prog := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, body := extest.Get(t, prog.URL+"/")
	if !strings.Contains(body, "<title>Parley chat</title>") || !strings.Contains(body, "clientInfo:") {
		t.Fatalf("page: %.200s", body)
	}

	said := make(chan Said, 10)
	routes := rpc.NewRouter()
	routes.Register("clientInfo", rpc.Func(func(context.Context, struct{}) (Info, error) {
		return Info{Time: "12:00", Agent: "go test"}, nil
	}))
	routes.Register(hub.EventMethod, rpc.Func(func(_ context.Context, ev struct {
		Topic string
		Data  Said
	}) (any, error) {
		if ev.Topic == "chat.lobby" {
			said <- ev.Data
		}
		return nil, nil
	}))
	client, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(prog.URL, "http")+"/rpc", &websocket.DialOptions{Handler: routes})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	if err := client.Call(ctx, "say", map[string]string{"text": "too early"}, nil); err == nil {
		t.Fatal("say before join should fail")
	}
	history, err := rpc.Call[[]Said](ctx, client, "join", map[string]string{"name": "ada"})
	if err != nil {
		t.Fatal(err)
	}
	// The first to join gets only her own arrival.
	if len(history) != 1 || history[0] != (Said{From: "server", Text: "ada joined; their clock says 12:00"}) {
		t.Fatalf("history: %#v", history)
	}
	if _, err := prog.Out.Wait(ctx, "ada joined lobby (their clock says 12:00; go test)"); err != nil {
		t.Fatal(err)
	}
	if _, err := rpc.Call[bool](ctx, client, "say", map[string]string{"text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if got := next(ctx, t, said); got != (Said{From: "ada", Text: "hello"}) {
		t.Fatalf("said: %+v", got)
	}
	if _, err := rpc.Call[[]Said](ctx, client, "join", map[string]string{"name": "ada again"}); !isCode(err, CodeNameTaken) {
		t.Fatalf("joining twice: %v", err)
	}

	// A client in another room hears nothing of the lobby, nor the lobby of
	// it.
	elsewhere := make(chan string, 10)
	own := rpc.NewRouter()
	own.Register("clientInfo", rpc.Func(func(context.Context, struct{}) (Info, error) { return Info{Time: "09:00"}, nil }))
	own.Register(hub.EventMethod, rpc.Func(func(_ context.Context, ev struct {
		Topic string
		Data  Said
	}) (any, error) {
		elsewhere <- ev.Topic + " " + ev.Data.Text
		return nil, nil
	}))
	cy, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(prog.URL, "http")+"/rpc", &websocket.DialOptions{Handler: own})
	if err != nil {
		t.Fatal(err)
	}
	defer cy.Close()
	// Her own arrival is in her history, as for ada: the kitchen's first.
	if h, err := rpc.Call[[]Said](ctx, cy, "join", map[string]string{"name": "cy", "room": "kitchen"}); err != nil || len(h) != 1 || h[0].Text != "cy joined; their clock says 09:00" {
		t.Fatalf("cy joins the kitchen: %v %v", h, err)
	}
	if _, err := rpc.Call[[]Said](ctx, cy, "join", map[string]string{"name": "dee", "room": "no spaces"}); !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("a bad room name: %v", err)
	}

	// A second client: a name in use is refused; with another, it gets the
	// history and ada hears of it.
	other, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(prog.URL, "http")+"/rpc", &websocket.DialOptions{Handler: routes})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := rpc.Call[[]Said](ctx, other, "join", map[string]string{"name": "ada"}); !isCode(err, CodeNameTaken) {
		t.Fatalf("a name in use: %v", err)
	}
	if _, err := rpc.Call[[]Said](ctx, other, "join", map[string]string{"name": ""}); !errors.Is(err, rpc.ErrInvalidParams) {
		t.Fatalf("join with no name: %v", err)
	}
	history, err = rpc.Call[[]Said](ctx, other, "join", map[string]string{"name": "bo"})
	if err != nil || len(history) != 3 || history[1] != (Said{From: "ada", Text: "hello"}) || history[2].Text != "bo joined; their clock says 12:00" {
		t.Fatalf("bo's history: %#v %v", history, err)
	}
	if got := next(ctx, t, said); got.Text != "bo joined; their clock says 12:00" {
		t.Fatalf("ada heard: %+v", got)
	}
	other.Close()
	if got := next(ctx, t, said); got != (Said{From: "server", Text: "bo left"}) {
		t.Fatalf("ada heard: %+v", got)
	}
	if _, err := prog.Out.Wait(ctx, "bo left"); err != nil {
		t.Fatal(err)
	}
	if _, err := rpc.Call[bool](ctx, cy, "say", map[string]string{"text": "anyone?"}); err != nil {
		t.Fatal(err)
	}
	if got := next(ctx, t, elsewhere); got != "chat.kitchen anyone?" {
		t.Fatalf("cy heard %q: the lobby's lines reached the kitchen", got)
	}
	select {
	case s := <-said:
		t.Fatalf("the lobby heard the kitchen: %+v", s)
	default:
	}
}

// next receives from ch, failing the test when ctx ends first.
func next[T any](ctx context.Context, t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatal("nothing came")
		var zero T
		return zero
	}
}

func isCode(err error, code rpc.Code) bool {
	var e *rpc.Error
	return errors.As(err, &e) && e.Code == code
}

// TestChatStops checks that the program ends when its context does, with
// a client still connected, and says so.
func TestChatStops(t *testing.T) {
	prog := startChat(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(prog.URL, "http")+"/rpc", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := prog.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := prog.Out.Wait(ctx, "chat: stopped"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-client.Done():
	case <-ctx.Done():
		t.Fatal("the client's connection outlived the server")
	}
}
