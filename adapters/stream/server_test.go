package stream_test

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// TestRoundTrip: over TCP and a Unix socket, with each framing and codec
// it carries, a client calls the server, the server calls the client back
// inside that call, and a large message crosses whole.
func TestRoundTrip(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		for _, tc := range []struct {
			name    string
			framing stream.Framing
			codec   codec.Codec
		}{
			{"header-json", stream.Header, json.Codec{}},
			{"header-cbor", stream.Header, cbor.Codec{}},
			{"lines-json", stream.Lines, json.Codec{}},
		} {
			t.Run(network+"/"+tc.name, func(t *testing.T) {
				_, addr := serve(t, network, &stream.ServerOptions{Framing: tc.framing, Codec: tc.codec, Handler: newRouter()})
				p := dial(t, addr, &stream.Options{Framing: tc.framing, Codec: tc.codec, Handler: clientRouter("alice")})
				ctx := testContext(t)
				sum, err := rpc.Call[int](ctx, p, "add", []int{1, 2, 39})
				if err != nil || sum != 42 {
					t.Fatalf("add: %v, %v", sum, err)
				}
				res, err := rpc.Call[callbackResult](ctx, p, "callMeBack", mulParams{6, 7})
				if err != nil || res != (callbackResult{"alice", 42}) {
					t.Fatalf("callMeBack: %+v, %v", res, err)
				}
				// Bigger than the reader's buffer and the kept write
				// buffer, with newlines a JSON encoder would not write.
				big := strings.Repeat("line\nof text ", 20000)
				got, err := rpc.Call[[]string](ctx, p, "echo", []string{big})
				if err != nil || len(got) != 1 || got[0] != big {
					t.Fatalf("echo of %d bytes: got %d strings, %v", len(big), len(got), err)
				}

			})
		}
	}
}

// TestLinesRefusesCBOR: line framing carries text only.
func TestLinesRefusesCBOR(t *testing.T) {
	_, err := stream.NewServer(&stream.ServerOptions{Framing: stream.Lines, Codec: cbor.Codec{}})
	if err == nil || !strings.Contains(err.Error(), "text only") {
		t.Fatalf("NewServer: %v, want a refusal of CBOR over lines", err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := stream.NewPeer(a, &stream.Options{Framing: stream.Lines, Codec: cbor.Codec{}}); err == nil {
		t.Fatal("NewPeer accepted CBOR over lines")
	}
}

// TestBadOptions: options are checked in the constructors.
func TestBadOptions(t *testing.T) {
	if _, err := stream.NewServer(&stream.ServerOptions{PeerOptions: []rpc.Option{rpc.WithMaxConcurrency(0)}}); err == nil {
		t.Error("NewServer accepted WithMaxConcurrency(0)")
	}
	if _, err := stream.NewServer(&stream.ServerOptions{Framing: 7}); err == nil {
		t.Error("NewServer accepted an unknown framing")
	}
	if _, err := stream.NewTransport(nil, nil); err == nil {
		t.Error("NewTransport accepted a nil stream")
	}
}

type userKey struct{}

// TestAcceptAndPeers: Accept sees the connection and may refuse it (the
// client is told why) or attach who it is; the peer joins Peers, reaches
// OnConnect, and leaves the set when it ends.
func TestAcceptAndPeers(t *testing.T) {
	peers := new(rpc.PeerSet)
	left := make(chan string, 4)
	peers.OnLeave = func(id string, _ *rpc.Peer, _ error) { left <- id }
	connected := make(chan *rpc.Peer, 4)
	router := rpc.NewRouter()
	must(router.Register("whoami", rpc.Func(func(ctx context.Context, _ any) (string, error) {
		return rpc.PeerFromContext(ctx).Value(userKey{}).(string), nil
	})))
	var mu sync.Mutex
	refuse := true
	_, addr := serve(t, "unix", &stream.ServerOptions{
		Handler: router,
		Peers:   peers,
		Accept: func(conn net.Conn) ([]rpc.Option, error) {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				refuse = false
				return nil, errors.New("not today")
			}
			return []rpc.Option{rpc.WithValue(userKey{}, "user@"+conn.LocalAddr().Network())}, nil
		},
		OnConnect: func(p *rpc.Peer, _ net.Conn) { connected <- p },
	})
	ctx := testContext(t)

	// The first connection is refused with a word.
	p := dial(t, addr, nil)
	<-p.Done()
	if err := p.Err(); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("refused client ended with %v", err)
	}

	p = dial(t, addr, nil)
	who, err := rpc.Call[string](ctx, p, "whoami", nil)
	if err != nil || who != "user@unix" {
		t.Fatalf("whoami: %q, %v", who, err)
	}
	sp := <-connected
	id, ok := peers.ID(sp)
	if !ok {
		t.Fatal("the server's peer is not in the set")
	}
	p.Close()
	if got := <-left; got != id {
		t.Fatalf("%s left, want %s", got, id)
	}
	if err := sp.Wait(); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Fatalf("server peer ended with %v", err)
	}
}

// TestRefusalIsAnswered: a refused client reads one error with a null id
// and the reason, then the end of the stream.
func TestRefusalIsAnswered(t *testing.T) {
	_, addr := serve(t, "tcp", &stream.ServerOptions{
		Framing: stream.Lines,
		Accept:  func(net.Conn) ([]rpc.Option, error) { return nil, errors.New("go away") },
	})
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("got %q, want one line", b)
	}
	var m struct {
		ID    *int `json:"id"`
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := stdjson.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != nil || m.Error.Code != -32000 || m.Error.Message != "connection refused: go away" {
		t.Fatalf("got %s", b)
	}
}

// TestServerClose: Close ends every connection's peer, and Serve returns.
func TestServerClose(t *testing.T) {
	srv, err := stream.NewServer(&stream.ServerOptions{Handler: newRouter()})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t, "tcp")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var clients []*rpc.Peer
	for i := 0; i < 5; i++ {
		p := dial(t, ln.Addr(), nil)
		if _, err := rpc.Call[int](testContext(t), p, "add", []int{i}); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, p)
	}
	if n := srv.Len(); n != 5 {
		t.Fatalf("Len = %d, want 5", n)
	}
	srv.Close()
	if err := <-served; !errors.Is(err, stream.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	for _, p := range clients {
		if err := p.Wait(); !errors.Is(err, rpc.ErrConnectionLost) {
			t.Fatalf("client ended with %v", err)
		}
	}
	if n := srv.Len(); n != 0 {
		t.Fatalf("Len = %d after Close", n)
	}
	a, b := net.Pipe()
	defer b.Close()
	if _, err := srv.ServeConn(a); !errors.Is(err, stream.ErrServerClosed) {
		t.Fatalf("ServeConn after Close: %v", err)
	}
}
