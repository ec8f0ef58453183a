package sockjs_test

import (
	"context"
	stdjson "encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

	"github.com/parleyrpc/parley/internal/nodetest"
	"github.com/parleyrpc/parley/rpc"
)

// nodeResult is what testdata/node/client.js prints in "calls" mode.
type nodeResult struct {
	Name      string         `json:"name"`
	Transport string         `json:"transport"`
	Codec     string         `json:"codec"`
	Add       int            `json:"add"`
	Unknown   any            `json:"unknown"`
	BadParams any            `json:"badParams"`
	Callback  callbackResult `json:"callback"`
	Error     string         `json:"error"`
	// BeforeOpen is set when the session closed before it opened, Lost
	// when it closed before the calls were done.
	BeforeOpen bool `json:"beforeOpen"`
	Lost       bool `json:"lost"`
}

// npm sockjs-client with npm json-rpc-2.0 calls the Go server and answers
// its calls, over three SockJS transports, with JSON and with CBOR (base64
// text, encoded by npm cbor-x).
func TestNodeSockJSClient(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/node")
	e := newEnv(t, nil)
	receivers := map[string]sockjsgo.ReceiverType{
		"websocket":     sockjsgo.ReceiverTypeWebsocket,
		"xhr-streaming": sockjsgo.ReceiverTypeXHRStreaming,
		"xhr-polling":   sockjsgo.ReceiverTypeXHR,
	}
	for _, codecName := range []string{"json", "cbor"} {
		for _, transport := range []string{"websocket", "xhr-streaming", "xhr-polling"} {
			name := "node-" + transport + "-" + codecName
			t.Run(transport+"/"+codecName, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
				defer cancel()
				prefix := map[string]string{"json": "/rpc", "cbor": "/cbor"}[codecName]
				var r nodeResult
				for attempt := 1; ; attempt++ {
					out := nodetest.Run(ctx, t, dir, "client.js", e.hs.URL+prefix, transport, codecName, name, "calls")
					lines := strings.Split(strings.TrimSpace(out), "\n")
					r = nodeResult{}
					if err := stdjson.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
						t.Fatalf("node output %q: %v", out, err)
					}
					// A session that closed before it opened never reached
					// RPC: on a loaded machine sockjs-client's transport
					// setup can fail so. A session lost during the calls
					// has been seen once too, in a CI run under heavy load,
					// with xhr-polling. Retry either once, visibly, with
					// both ends' account; the second attempt must pass.
					if !(r.BeforeOpen || r.Lost) || attempt == 2 {
						break
					}
					t.Logf("attempt %d: %s (%s); retrying once", attempt, r.Error, e.serverSide(name))
				}
				if r.Error != "" {
					t.Fatalf("node client failed: %s (%s)", r.Error, e.serverSide(name))
				}
				if r.Transport != transport {
					t.Errorf("client used transport %q", r.Transport)
				}
				if r.Add != 5 {
					t.Errorf("add = %d; want 5", r.Add)
				}
				if r.Unknown != float64(-32601) {
					t.Errorf("unknown method answered %v; want -32601", r.Unknown)
				}
				if r.BadParams != float64(-32602) {
					t.Errorf("wrong params answered %v; want -32602", r.BadParams)
				}
				// The Go server called whoami and mul on the node client
				// and passed back what it answered.
				if r.Callback.Who != name || r.Callback.Product != 42 {
					t.Errorf("server-to-client calls gave %+v; want {%s 42}", r.Callback, name)
				}
				e.mu.Lock()
				info, ok := e.sessions[name]
				e.mu.Unlock()
				if !ok {
					t.Fatal("OnConnect did not see the session's request")
				}
				if info.ID == "" || info.Receiver != receivers[transport] {
					t.Errorf("OnConnect saw session %q over receiver %v; want an id and %v", info.ID, info.Receiver, receivers[transport])
				}
			})
		}
	}
}

// A node client that sends a message beyond the read limit loses its own
// session, whatever the transport; the server and its other clients go on.
func TestNodeOversizeMessage(t *testing.T) {
	dir := nodetest.Setup(t, "testdata/node")
	e := limitedEnv(t)
	other := e.mustDial(t, "/rpc", "other", nil)
	for _, transport := range []string{"websocket", "xhr-streaming", "xhr-polling"} {
		t.Run(transport, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			out := nodetest.Run(ctx, t, dir, "client.js", e.hs.URL+"/rpc", transport, "json", "big", "oversize",
				strconv.Itoa(2*testReadLimit))
			t.Logf("node: %s", strings.TrimSpace(out))
			var r struct{ Closed int }
			if err := stdjson.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil || r.Closed == 0 {
				t.Errorf("node output %q: want a close", out)
			}
			if sum, err := rpc.Call[int](ctx, other.peer, "add", []int{1, 1}); err != nil || sum != 2 {
				t.Errorf("other client: %v, %v", sum, err)
			}
		})
	}
}
