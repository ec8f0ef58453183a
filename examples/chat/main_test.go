package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// TestChat drives the demo with a Go client playing the browser's part: it
// joins (and answers the server's clientInfo call), says a line, and gets
// the "said" notification back.
func TestChat(t *testing.T) {
	var logged []string
	r, err := newRoom(func(f string, a ...any) { logged = append(logged, f) })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer r.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Parley chat") || !strings.Contains(string(body), `"clientInfo"`) && !strings.Contains(string(body), "clientInfo:") {
		t.Fatalf("page: %.200s", body)
	}

	said := make(chan Said, 10)
	routes := rpc.NewRouter()
	routes.Register("clientInfo", rpc.Func(func(context.Context, struct{}) (Info, error) {
		return Info{Time: "12:00", Agent: "go test"}, nil
	}))
	routes.Register("said", rpc.Func(func(_ context.Context, s Said) (any, error) { said <- s; return nil, nil }))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/rpc", &websocket.DialOptions{Handler: routes})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	if err := client.Call(ctx, "say", map[string]string{"text": "too early"}, nil); err == nil {
		t.Fatal("say before join should fail")
	}
	if _, err := rpc.Call[[]Said](ctx, client, "join", map[string]string{"name": "ada"}); err != nil {
		t.Fatal(err)
	}
	if got := <-said; got.From != "server" || !strings.Contains(got.Text, "ada joined; their clock says 12:00") {
		t.Fatalf("join notice: %+v", got)
	}
	if _, err := rpc.Call[bool](ctx, client, "say", map[string]string{"text": "hello"}); err != nil {
		t.Fatal(err)
	}
	if got := <-said; got != (Said{From: "ada", Text: "hello"}) {
		t.Fatalf("said: %+v", got)
	}
}
