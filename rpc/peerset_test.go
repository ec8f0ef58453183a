package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// connect adds n clients to set; client i answers "whoami" with its index,
// except that client `silent` never answers.
func connect(t *testing.T, set *rpc.PeerSet, n, silent int) []*rpc.Peer {
	t.Helper()
	var clients []*rpc.Peer
	for i := range n {
		routes := router(t, "whoami", rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			if i == silent {
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return fmt.Sprint(i), nil
		}))
		server, client := pair(t, nil, []rpc.Option{rpc.WithHandler(routes)})
		if _, err := set.Add(fmt.Sprint(i), server); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, client)
	}
	return clients
}

func TestCallAllMatchesAnswersAndIsolatesASlowClient(t *testing.T) {
	var set rpc.PeerSet
	connect(t, &set, 200, 17)
	replies := rpc.CallAll[string](context.Background(), &set, "whoami", nil, 200*time.Millisecond)
	if len(replies) != 200 {
		t.Fatalf("%d replies", len(replies))
	}
	for _, r := range replies {
		switch {
		case r.ID == "17":
			if !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Errorf("silent client: %v", r.Err)
			}
		case r.Err != nil || r.Result != r.ID:
			t.Errorf("client %s answered %q, %v", r.ID, r.Result, r.Err)
		}
	}
}

func TestPeerSetJoinLeaveAndLookup(t *testing.T) {
	var (
		mu     sync.Mutex
		events []string
		left   = make(chan error, 1)
	)
	set := &rpc.PeerSet{
		OnJoin: func(id string, p *rpc.Peer) { mu.Lock(); events = append(events, "join "+id); mu.Unlock() },
		OnLeave: func(id string, p *rpc.Peer, err error) {
			mu.Lock()
			events = append(events, "leave "+id)
			mu.Unlock()
			left <- err
		},
	}
	clients := connect(t, set, 2, -1)
	if set.Len() != 2 {
		t.Fatalf("Len = %d", set.Len())
	}
	var got string
	if err := set.Call(context.Background(), "1", "whoami", nil, &got); err != nil || got != "1" {
		t.Fatalf("Call by id: %q %v", got, err)
	}
	if err := set.Call(context.Background(), "nobody", "whoami", nil, nil); !errors.Is(err, rpc.ErrUnknownPeer) {
		t.Fatalf("unknown id: %v", err)
	}
	p0, _ := set.Get("0")
	if id, ok := set.ID(p0); !ok || id != "0" {
		t.Fatalf("ID = %q %v", id, ok)
	}
	if _, err := set.Add("0", p0); err == nil {
		t.Fatal("a taken id was accepted")
	}
	clients[0].Close() // the client goes away
	if err := <-left; !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("OnLeave cause: %v", err)
	}
	if _, ok := set.Get("0"); ok || set.Len() != 1 {
		t.Fatal("a peer that ended is still in the set")
	}
	for _, r := range set.NotifyAll(context.Background(), "whoami", nil, time.Second) {
		if r.Err != nil {
			t.Errorf("NotifyAll to %s: %v", r.ID, r.Err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(events) != "[join 0 join 1 leave 0]" {
		t.Fatalf("events %v", events)
	}
}

func TestPeerSetReusesTheIDOfAnEndedPeer(t *testing.T) {
	var set rpc.PeerSet
	a, _ := pair(t, nil, nil)
	if _, err := set.Add("x", a); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, _ := pair(t, nil, nil)
	if _, err := set.Add("x", b); err != nil {
		t.Fatalf("the id of an ended peer was not reusable: %v", err)
	}
	if p, _ := set.Get("x"); p != b {
		t.Fatal("the new peer does not hold the id")
	}
}

// failingTransport accepts nothing: every Send fails as a dead socket does.
type failingTransport struct{ closed chan struct{} }

func (f *failingTransport) Start(in rpc.Inbound) {
	go func() { <-f.closed; in.OnClose(nil) }()
}
func (f *failingTransport) Send(context.Context, []byte) error {
	return errors.New("write tcp: broken pipe")
}
func (f *failingTransport) Close() error {
	select {
	case <-f.closed:
	default:
		close(f.closed)
	}
	return nil
}

func TestSendFailureIsConnectionLost(t *testing.T) {
	p, err := rpc.NewPeer(&failingTransport{closed: make(chan struct{})})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Call(context.Background(), "x", nil, nil); !errors.Is(err, rpc.ErrConnectionLost) || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("got %v", err)
	}
}
