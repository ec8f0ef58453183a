package websocket_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

var codecs = []codec.Codec{json.Codec{}, cbor.Codec{}}

// TestCallsBothWays: a Go client and a Go server call each other over a
// real loopback connection with each codec, including a server handler
// that calls back into the client that called it.
func TestCallsBothWays(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.Name(), func(t *testing.T) {
			var peers rpc.PeerSet
			serverCodec := make(chan string, 1)
			ts := startServer(t, &websocket.ServerOptions{
				Handler: serverRouter(t),
				Peers:   &peers,
				OnConnect: func(p *rpc.Peer, r *http.Request) {
					serverCodec <- p.Codec().Name()
				},
			})
			notes := make(chan string, 1)
			cr := clientRouter(t)
			mustRegister(t, cr, "note", rpc.Func(func(_ context.Context, p []string) (any, error) {
				notes <- p[0]
				return nil, nil
			}))
			client := dial(t, ts.url, &websocket.DialOptions{Codec: c, Handler: cr})
			ctx := testCtx(t)

			if got := client.Codec().Name(); got != c.Name() {
				t.Fatalf("client codec %q, want %q", got, c.Name())
			}
			if got := <-serverCodec; got != c.Name() {
				t.Fatalf("server negotiated %q, want %q", got, c.Name())
			}

			// Client to server.
			if sum, err := rpc.Call[int](ctx, client, "add", []int{1, 2, 3}); err != nil || sum != 6 {
				t.Fatalf("add = %d, %v; want 6", sum, err)
			}
			// Client to server, whose handler calls back into the client.
			if n, err := rpc.Call[int](ctx, client, "callback", []int{6, 7}); err != nil || n != 43 {
				t.Fatalf("callback = %d, %v; want 43", n, err)
			}
			// Server to client, from outside any handler.
			server := onlyPeer(t, &peers)
			if n, err := rpc.Call[int](ctx, server, "mul", []int{3, 5}); err != nil || n != 15 {
				t.Fatalf("server -> client mul = %d, %v; want 15", n, err)
			}
			if err := server.Notify(ctx, "note", []string{"hello"}); err != nil {
				t.Fatal(err)
			}
			select {
			case s := <-notes:
				if s != "hello" {
					t.Fatalf("notification carried %q", s)
				}
			case <-ctx.Done():
				t.Fatal("notification not delivered")
			}
			// A remote error keeps its code.
			err := client.Call(ctx, "nope", nil, nil)
			if !is(err, rpc.ErrMethodNotFound) || !rpc.IsRemote(err) {
				t.Fatalf("unknown method: %v", err)
			}

			// Many calls at once, in both directions.
			var wg sync.WaitGroup
			errs := make(chan error, 100)
			for i := range 50 {
				wg.Add(2)
				go func() {
					defer wg.Done()
					sum, err := rpc.Call[int](ctx, client, "add", []int{i, i})
					if err == nil && sum != 2*i {
						err = fmt.Errorf("add(%d, %d) = %d", i, i, sum)
					}
					errs <- err
				}()
				go func() {
					defer wg.Done()
					n, err := rpc.Call[int](ctx, server, "mul", []int{i, 2})
					if err == nil && n != 2*i {
						err = fmt.Errorf("mul(%d, 2) = %d", i, n)
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestFrameTypes: the codec decides the frame type on the wire: JSON
// answers in text frames, CBOR in binary frames. Checked with a raw
// gorilla client.
func TestFrameTypes(t *testing.T) {
	ts := startServer(t, &websocket.ServerOptions{Handler: serverRouter(t)})
	for _, tc := range []struct {
		c         codec.Codec
		protocols []string
		frame     int
	}{
		{json.Codec{}, nil, gorilla.TextMessage},
		{json.Codec{}, []string{websocket.ProtocolJSON}, gorilla.TextMessage},
		{cbor.Codec{}, []string{websocket.ProtocolCBOR}, gorilla.BinaryMessage},
	} {
		t.Run(fmt.Sprint(tc.c.Name(), tc.protocols), func(t *testing.T) {
			d := gorilla.Dialer{Subprotocols: tc.protocols}
			ws, _, err := d.Dial(ts.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			params, _ := tc.c.Marshal([]int{20, 22})
			req, err := tc.c.AppendMessage(nil, &codec.Message{ID: codec.Int(7), Method: "add", Params: params})
			if err != nil {
				t.Fatal(err)
			}
			if err := ws.WriteMessage(tc.frame, req); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			typ, data, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if typ != tc.frame {
				t.Fatalf("answer in frame type %d, want %d", typ, tc.frame)
			}
			msgs, _, err := tc.c.Decode(nil, data)
			if err != nil || len(msgs) != 1 {
				t.Fatalf("decoding the answer: %v", err)
			}
			var sum int
			if err := tc.c.Unmarshal(msgs[0].Result, &sum); err != nil || sum != 42 {
				t.Fatalf("answer %d, %v; want 42", sum, err)
			}
			if id, _ := msgs[0].ID.Int(); id != 7 {
				t.Fatalf("answer id %v", msgs[0].ID)
			}
		})
	}
}

// TestServerCallsAll: the server reaches every connected client at once
// through the PeerSet, across codecs.
func TestServerCallsAll(t *testing.T) {
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Peers: &peers})
	for i := range 4 {
		dial(t, ts.url, &websocket.DialOptions{Codec: codecs[i%2], Handler: clientRouter(t)})
	}
	waitFor(t, "four peers", func() bool { return peers.Len() == 4 })
	replies := rpc.CallAll[int](testCtx(t), &peers, "mul", []int{2, 21}, time.Second)
	if len(replies) != 4 {
		t.Fatalf("%d replies", len(replies))
	}
	for _, r := range replies {
		if r.Err != nil || r.Result != 42 {
			t.Fatalf("%s: %d, %v", r.ID, r.Result, r.Err)
		}
	}
}
