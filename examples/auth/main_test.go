package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// startServer serves newServer(demoTokens) on 127.0.0.1 and returns its
// ws:// URL and the server.
func startServer(t *testing.T) (string, *server) {
	t.Helper()
	srv, err := newServer(demoTokens)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http"), srv
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialAs connects with the Authorization header given ("" for none).
func dialAs(t *testing.T, url, authorization string) (*rpc.Peer, error) {
	t.Helper()
	h := http.Header{}
	if authorization != "" {
		h.Set("Authorization", authorization)
	}
	p, err := websocket.Dial(testCtx(t), url, &websocket.DialOptions{Header: h})
	if err == nil {
		t.Cleanup(func() { _ = p.Close() })
	}
	return p, err
}

// TestHandshakeNeedsAToken: no token, a wrong one, or another scheme than
// Bearer: the handshake is refused with 401, before any upgrade.
func TestHandshakeNeedsAToken(t *testing.T) {
	url, _ := startServer(t)
	for _, auth := range []string{"", "Bearer guess", "Bearer ", "Basic YWxpY2U6eA==", "alice-token"} {
		_, err := dialAs(t, url, auth)
		var he *websocket.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: got %v, want HTTP 401", auth, err)
		}
	}
	// A token in the query string, for browsers: a wrong one is refused
	// too.
	_, err := websocket.Dial(testCtx(t), url+"?access_token=guess", nil)
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong access_token: got %v, want HTTP 401", err)
	}
}

// TestHandlersSeeTheIdentity: the identity of the token reaches the
// handler through the context, whether the token came in the header or
// the query string.
func TestHandlersSeeTheIdentity(t *testing.T) {
	url, _ := startServer(t)
	alice, err := dialAs(t, url, "Bearer alice-token")
	if err != nil {
		t.Fatal(err)
	}
	id, err := rpc.Call[Identity](testCtx(t), alice, "whoami", nil)
	if err != nil || id.User != "alice" || !slices.Equal(id.Roles, []string{"user"}) {
		t.Fatalf("whoami as alice: %+v, %v", id, err)
	}

	root, err := websocket.Dial(testCtx(t), url+"?access_token=root-token", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	id, err = rpc.Call[Identity](testCtx(t), root, "whoami", nil)
	if err != nil || id.User != "root" || !id.Has("admin") {
		t.Fatalf("whoami as root: %+v, %v", id, err)
	}
}

// TestAdminMethodsNeedTheAdminRole: admin.users is refused to a user with
// CodeForbidden, a remote error naming the method, in a call and in a
// batch alike (interceptors see every item); an admin gets the answer.
func TestAdminMethodsNeedTheAdminRole(t *testing.T) {
	url, srv := startServer(t)
	ctx := testCtx(t)
	alice, err := dialAs(t, url, "Bearer alice-token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rpc.Call[[]string](ctx, alice, "admin.users", nil)
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Code != CodeForbidden || !rpc.IsRemote(err) ||
		!strings.Contains(rerr.Message, "admin.users needs the admin role") {
		t.Fatalf("admin.users as alice: %v", err)
	}

	var who Identity
	items := []rpc.BatchItem{
		{Method: "whoami", Result: &who},
		{Method: "admin.users", Result: new([]string)},
	}
	_ = alice.Batch(ctx, items)
	if items[0].Err != nil || who.User != "alice" {
		t.Errorf("whoami in a batch: %+v, %v", who, items[0].Err)
	}
	if !errors.As(items[1].Err, &rerr) || rerr.Code != CodeForbidden {
		t.Errorf("admin.users in a batch as alice: %v", items[1].Err)
	}

	// OnConnect runs once alice's peer is serving: wait for it to have
	// filed alice, then ask as root (who is counted as the caller).
	for deadline := time.Now().Add(5 * time.Second); srv.peers.Len() < 1; {
		if time.Now().After(deadline) {
			t.Fatal("alice never joined the set")
		}
		time.Sleep(time.Millisecond)
	}
	root, err := dialAs(t, url, "Bearer root-token")
	if err != nil {
		t.Fatal(err)
	}
	users, err := rpc.Call[[]string](ctx, root, "admin.users", nil)
	if err != nil || !slices.Equal(users, []string{"alice", "root"}) {
		t.Fatalf("admin.users as root: %v, %v", users, err)
	}
}

// lines collects what run writes and tells when a line containing want
// has been written.
type lines struct {
	mu   sync.Mutex
	text strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.text.Write(p)
	if strings.Contains(l.text.String(), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// TestRun runs the program as main does, on a free port, and checks the
// story it tells; cancelling its context stops it cleanly.
func TestRun(t *testing.T) {
	out := &lines{want: "demo done", seen: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", out) }()
	select {
	case <-out.seen:
	case err := <-done:
		t.Fatalf("run ended early: %v\n%s", err, out)
	case <-time.After(20 * time.Second):
		t.Fatalf("no demo done line:\n%s", out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	text := out.String()
	for _, want := range []string{
		"no token: refused with HTTP 401 (a bearer token is required)",
		"wrong token: refused with HTTP 401 (unknown token)",
		"alice: whoami = alice [user]",
		"alice: admin.users refused: -32003 forbidden: admin.users needs the admin role, and alice does not have it",
		"root: whoami = root [admin user]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// Alice is listed once her OnConnect has run, which the demo does not
	// wait for (TestAdminMethodsNeedTheAdminRole does); root always is.
	if !strings.Contains(text, "root: admin.users = [alice root]\n") && !strings.Contains(text, "root: admin.users = [root]\n") {
		t.Errorf("output lacks root's admin.users:\n%s", text)
	}
}
