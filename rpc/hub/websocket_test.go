package hub_test

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/internal/rawws"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// wsServer serves a hub (and nothing else) over WebSocket on 127.0.0.1;
// the X-User header of the handshake becomes the peer's identity.
func wsServer(t testing.TB, opts *hub.Options, wopts websocket.ServerOptions) (*hub.Hub, string) {
	t.Helper()
	h, r := newHub(t, opts)
	wopts.Handler = r
	wopts.Accept = func(req *http.Request) ([]rpc.Option, error) {
		return []rpc.Option{rpc.WithValue(userKey{}, req.Header.Get("X-User"))}, nil
	}
	srv, err := websocket.NewServer(&wopts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return h, "ws" + strings.TrimPrefix(hs.URL, "http")
}

// wsClient dials the hub as user, with its own methods (nil for none).
func wsClient(t testing.TB, url, user string, c codec.Codec, own *rpc.Router) *client {
	t.Helper()
	if own == nil {
		own = rpc.NewRouter()
	}
	cl := &client{events: make(chan event, 10000)}
	own.Register(hub.EventMethod, rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		var ev event
		if err := req.DecodeParams(&ev); err != nil {
			return nil, err
		}
		if ev.Data.Codec() == nil {
			ev.Data = rpc.NewRaw(req.Peer().Codec(), ev.Data.Bytes())
		}
		cl.events <- ev
		return nil, nil
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := websocket.Dial(ctx, url, &websocket.DialOptions{Codec: c, Handler: own, Header: http.Header{"X-User": {user}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	cl.peer = p
	return cl
}

// Every rule, once more over WebSocket, with JSON and CBOR clients mixed.
func TestOverWebSocket(t *testing.T) {
	h, url := wsServer(t, &hub.Options{Authorize: func(_ context.Context, p *rpc.Peer, a hub.Action, name string) error {
		if p.Value(userKey{}) == "guest" && a != hub.Subscribe {
			return errors.New("guests only listen")
		}
		return nil
	}}, websocket.ServerOptions{})
	for _, cs := range [][2]codec.Codec{{nil, nil}, {cbor.Codec{}, nil}, {nil, cbor.Codec{}}, {cbor.Codec{}, cbor.Codec{}}} {
		name := fmt.Sprintf("%v-%v", cs[0] != nil, cs[1] != nil)
		t.Run(name, func(t *testing.T) {
			own := rpc.NewRouter()
			b := newBlocker()
			own.Register("dev.read", rpc.Func(func(ctx context.Context, p struct{ N int }) (int, error) {
				for i := range p.N {
					rpc.Progress(ctx, i)
				}
				return p.N * 2, nil
			}))
			own.Register("dev.block", b)
			dev := wsClient(t, url, "device", cs[0], own)
			web := wsClient(t, url, "browser", cs[1], nil)
			guest := wsClient(t, url, "guest", cs[1], nil)
			topic := "ws." + strings.ReplaceAll(name, "-", "_")
			dev.must(t, hub.MethodSubscribe, sub(topic+".>"))
			guest.must(t, hub.MethodSubscribe, sub(topic+".>"))
			web.must(t, hub.MethodPublish, pub(topic+".a", map[string]any{"big": int64(1) << 60}))
			for _, c := range []*client{dev, guest} {
				ev := c.next(t)
				var v struct{ Big int64 }
				if err := ev.Data.Decode(&v); err != nil || v.Big != 1<<60 || ev.Topic != topic+".a" {
					t.Fatalf("event %+v: %+v %v", ev, v, err)
				}
			}
			if err := guest.call(t, hub.MethodPublish, pub(topic+".a", 1), nil); !errors.Is(err, hub.ErrNotAuthorized) {
				t.Fatalf("guest publish: %v", err)
			}
			proc := "dev.read"
			dev.must(t, hub.MethodRegister, map[string]any{"procedure": proc, "policy": "roundrobin"})
			dev.must(t, hub.MethodRegister, map[string]any{"procedure": "dev.block", "policy": "roundrobin"})
			var n int
			var parts []int
			err := rpc.CallWithProgress(testCtx(t), web.peer, hub.MethodCall, routed(proc, map[string]int{"N": 3}), &n, func(v rpc.Raw) {
				var i int
				v.Decode(&i)
				parts = append(parts, i)
			})
			if err != nil || n != 6 || !reflect.DeepEqual(parts, []int{0, 1, 2}) {
				t.Fatalf("call: %d %v %v", n, parts, err)
			}
			// Cancel, then timeout, then the callee leaves.
			ctx, cancel := context.WithCancel(testCtx(t))
			done := make(chan error, 1)
			go func() { done <- web.peer.Call(ctx, hub.MethodCall, routed("dev.block", nil), nil) }()
			wait(t, b.started, "the callee")
			cancel()
			wait(t, done, "the caller")
			wait(t, b.ended, "the callee's cancellation")
			if err := web.call(t, hub.MethodCall, map[string]any{"procedure": "dev.block", "timeout": 20}, nil); !errors.Is(err, hub.ErrTimeout) {
				t.Fatalf("timeout: %v", err)
			}
			wait(t, b.started, "the callee")
			wait(t, b.ended, "the callee's cancellation")
			go func() { done <- web.call(t, hub.MethodCall, routed("dev.block", nil), nil) }()
			wait(t, b.started, "the callee")
			dev.peer.Close()
			if err := wait(t, done, "the caller"); !errors.Is(err, hub.ErrCalleeGone) {
				t.Fatalf("callee gone: %v", err)
			}
			eventually(t, "the device leaves", func() bool { return len(h.Registrants("dev.block")) == 0 && h.SubscriberCount(topic+".>") == 1 })
		})
	}
}

// The JavaScript clients a user writes: npm json-rpc-2.0 over ws.
func TestNodeClients(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/node")
	_, url := wsServer(t, &hub.Options{Authorize: func(_ context.Context, p *rpc.Peer, a hub.Action, name string) error {
		if p.Value(userKey{}) == "guest" && a != hub.Subscribe {
			return errors.New("guests only listen")
		}
		return nil
	}}, websocket.ServerOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := nodetest.Run(ctx, t, dir, "hub.js", url)
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := stdjson.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("node printed %q: %v", line, err)
		}
		got[m["check"].(string)] = line
	}
	for check, want := range map[string]string{
		"subscribe":         `{"check":"subscribe","result":true}`,
		"publish":           `{"check":"publish","result":1}`,
		"event":             `{"check":"event","event":{"topic":"chat.lobby","data":{"text":"hi"}}}`,
		"call":              `{"check":"call","result":{"sensor":"t1","celsius":21.5}}`,
		"callee error":      `{"check":"callee error","code":0,"message":"sensor offline"}`,
		"no such procedure": `{"check":"no such procedure","code":-32011}`,
		"progress":          `{"check":"progress","result":"scanned 3","parts":[["scan-1",1],["scan-1",2],["scan-1",3]]}`,
		"guest publish":     `{"check":"guest publish","code":-32010}`,
		"guest register":    `{"check":"guest register","code":-32010}`,
		"callee gone":       `{"check":"callee gone","code":-32013}`,
		"unsubscribe":       `{"check":"unsubscribe","result":true}`,
		"unregister":        `{"check":"unregister","result":true}`,
	} {
		if got[check] != want {
			t.Errorf("%s:\n got %s\nwant %s", check, got[check], want)
		}
	}
}

// rawSubscriber subscribes a raw WebSocket client (JSON text, no Parley
// code) to topic.
func rawSubscriber(t *testing.T, url, topic string) *rawws.Conn {
	t.Helper()
	c, err := rawws.Dial(testCtx(t), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort() })
	if err := c.WriteMessage(rawws.OpText, []byte(`{"jsonrpc":"2.0","id":1,"method":"hub.subscribe","params":{"topic":"`+topic+`"}}`)); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), `"result": true`) {
		t.Fatalf("subscribe: %s %v", msg, err)
	}
	return c
}

// A publish storm at a WebSocket subscriber that stopped reading: the
// others get everything in order, publishers never wait, and the stuck one
// is dropped by the adapter's write timeout, leaving its topics.
func TestStuckWebSocketSubscriberDropped(t *testing.T) {
	h, url := wsServer(t, &hub.Options{MaxQueuedEvents: 1000}, websocket.ServerOptions{WriteTimeout: time.Second, PingInterval: -1})
	// The readers are raw clients that only look for each event's number:
	// parsing megabytes with the race detector on would make them the
	// slow ones.
	var fast []*rawws.Conn
	for range 3 {
		fast = append(fast, rawSubscriber(t, url, "storm"))
	}
	stuck := rawSubscriber(t, url, "storm")
	if tc, ok := stuck.NetConn().(interface{ SetReadBuffer(int) error }); ok {
		tc.SetReadBuffer(4096) // fill up sooner
	}
	// From here on the stuck client reads nothing.
	payload := strings.Repeat("x", 64<<10)
	const n = 300
	errs := make(chan error, len(fast))
	for _, c := range fast {
		go func() {
			for i := range n {
				_, msg, err := c.ReadMessage()
				if err == nil && !strings.Contains(string(msg), fmt.Sprintf(`"i":%d,`, i)) {
					err = fmt.Errorf("event %d: %.80s", i, msg)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	start := time.Now()
	for i := range n {
		if _, err := h.Publish("storm", map[string]any{"i": i, "pad": payload}); err != nil {
			t.Fatal(err)
		}
	}
	publishing := time.Since(start)
	for range fast {
		if err := wait(t, errs, "a fast subscriber"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "the stuck subscriber is dropped", func() bool { return h.SubscriberCount("storm") == 3 })
	t.Logf("%d publishes of 64 KiB to 4 subscribers (one stuck) took %v", n, publishing)
}
