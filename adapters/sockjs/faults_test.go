package sockjs_test

import (
	"context"
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/internal/rawws"
	"github.com/parleyrpc/parley/rpc"
)

// Limits of the fault tests: the Peer refuses messages over 1 KiB, the
// transport drops a client sending more than 8 KiB at once.
const (
	testMaxMessage = 1024
	testReadLimit  = 8192
)

func limitedEnv(t *testing.T) *env {
	return newEnv(t, func(c *sockjs.ServerOptions) {
		c.PeerOptions = append(c.PeerOptions, rpc.WithMaxMessageSize(testMaxMessage))
		c.ReadLimit = testReadLimit
	})
}

// jsonAnswer is a JSON-RPC response read by hand.
type jsonAnswer struct {
	ID     stdjson.RawMessage `json:"id"`
	Result stdjson.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func readJSONAnswer(t *testing.T, c *wsConn) jsonAnswer {
	t.Helper()
	msg, err := c.ReadText()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var a jsonAnswer
	if err := stdjson.Unmarshal(msg, &a); err != nil {
		t.Fatalf("answer %q: %v", msg, err)
	}
	return a
}

func wantError(t *testing.T, what string, a jsonAnswer, code int) {
	t.Helper()
	if a.Error == nil || a.Error.Code != code || string(a.ID) != "null" {
		t.Errorf("%s: got %+v (error %+v); want error %d with id null", what, a, a.Error, code)
	}
}

// Bad JSON payloads are answered with errors; the session stays up.
func TestBadJSONPayloads(t *testing.T) {
	e := limitedEnv(t)
	ctx := testContext(t)
	c, err := dialWS(ctx, e.wsURL("/rpc"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	c.WriteText([]byte(`{"jsonrpc":"2.0","method":`))
	wantError(t, "invalid JSON", readJSONAnswer(t, c), -32700)

	big := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", 2*testMaxMessage) + `"],"id":7}`
	c.WriteText([]byte(big))
	wantError(t, "oversize message", readJSONAnswer(t, c), -32600)

	c.WriteText([]byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":8}`))
	if a := readJSONAnswer(t, c); string(a.Result) != "3" || string(a.ID) != "8" {
		t.Errorf("call after bad payloads: %+v", a)
	}
}

// On a CBOR endpoint, text that is not base64 gets a -32700 answer, in
// base64 CBOR, with id null; base64 of bytes that are not CBOR too. The
// session stays up.
func TestBadCBORPayloads(t *testing.T) {
	e := limitedEnv(t)
	ctx := testContext(t)
	c, err := dialWS(ctx, e.wsURL("/cbor"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read := func(what string) codec.Message {
		t.Helper()
		text, err := c.ReadText()
		if err != nil {
			t.Fatalf("%s: read: %v", what, err)
		}
		raw, err := base64.StdEncoding.DecodeString(string(text))
		if err != nil {
			t.Fatalf("%s: answer %q is not base64: %v", what, text, err)
		}
		msgs, _, err := cbor.Codec{}.Decode(nil, raw)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("%s: answer is not one CBOR message: %v", what, err)
		}
		return msgs[0]
	}
	wantParseError := func(what string, m codec.Message, text string) {
		t.Helper()
		if m.Error == nil || m.Error.Code != -32700 || m.ID != codec.Null() || !strings.Contains(m.Error.Message, text) {
			t.Errorf("%s: got %+v, error %+v; want -32700 with id null mentioning %q", what, m, m.Error, text)
		}
	}

	c.WriteText([]byte("this is not base64!"))
	wantParseError("invalid base64", read("invalid base64"), "base64")

	c.WriteText([]byte(base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0x13})))
	wantParseError("invalid CBOR", read("invalid CBOR"), "")

	req, _ := cbor.Codec{}.AppendMessage(nil, &codec.Message{Method: "add", Params: mustCBOR(t, []int{1, 2}), ID: codec.Int(9)})
	c.WriteText([]byte(base64.StdEncoding.EncodeToString(req)))
	m := read("call")
	var sum int
	if m.ID != codec.Int(9) || m.Error != nil || (cbor.Codec{}).Unmarshal(m.Result, &sum) != nil || sum != 3 {
		t.Errorf("call after bad payloads: %+v, error %+v", m, m.Error)
	}
}

func mustCBOR(t *testing.T, v any) []byte {
	b, err := cbor.Codec{}.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A WebSocket message beyond the read limit, whole or in fragments, drops
// that client only.
func TestReadLimitDropsOnlyThatClient(t *testing.T) {
	e := limitedEnv(t)
	ctx := testContext(t)
	other := e.mustDial(t, "/rpc", "other", nil)
	for name, send := range map[string]func(c *wsConn, p []byte) error{
		"whole":      (*wsConn).WriteText,
		"fragmented": func(c *wsConn, p []byte) error { return c.WriteFragmented(rawws.OpText, p, testReadLimit/3) },
	} {
		t.Run(name, func(t *testing.T) {
			c, err := dialWS(ctx, e.wsURL("/rpc"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Abort()
			huge := `{"jsonrpc":"2.0","method":"echo","params":["` + strings.Repeat("x", testReadLimit) + `"],"id":1}`
			if err := send(c, []byte(huge)); err != nil {
				t.Fatal(err)
			}
			c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				msg, err := c.ReadText()
				if err != nil {
					if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout") {
						t.Fatalf("connection still open: %v", err)
					}
					break // dropped
				}
				if len(msg) > 0 {
					t.Fatalf("got an answer %q to a message over the read limit", msg)
				}
			}
			if sum, err := rpc.Call[int](ctx, other.peer, "add", []int{4, 5}); err != nil || sum != 9 {
				t.Errorf("other client: %v, %v", sum, err)
			}
		})
	}
}

// An xhr_send body beyond the read limit is refused with 413; the session
// itself keeps working.
func TestXHRSendBodyLimit(t *testing.T) {
	e := limitedEnv(t)
	ctx := testContext(t)
	base := e.hs.URL + "/rpc/000/limit"
	post := func(path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post("/xhr", ""); code != 200 || body != "o\n" {
		t.Fatalf("open: %d %q", code, body)
	}
	frame, _ := stdjson.Marshal([]string{strings.Repeat("x", testReadLimit)})
	if code, _ := post("/xhr_send", string(frame)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize xhr_send: %d; want 413", code)
	}
	frame, _ = stdjson.Marshal([]string{`{"jsonrpc":"2.0","method":"add","params":[20,22],"id":1}`})
	if code, _ := post("/xhr_send", string(frame)); code != http.StatusNoContent {
		t.Fatalf("xhr_send: %d; want 204", code)
	}
	code, body := post("/xhr", "")
	var msgs []string
	if code != 200 || !strings.HasPrefix(body, "a") || stdjson.Unmarshal([]byte(body[1:]), &msgs) != nil || len(msgs) != 1 {
		t.Fatalf("poll: %d %q", code, body)
	}
	var a jsonAnswer
	if err := stdjson.Unmarshal([]byte(msgs[0]), &a); err != nil || string(a.Result) != "42" {
		t.Errorf("answer %q", msgs[0])
	}
}

// A client that drops its connection while the server calls it fails only
// the server's calls to it, with ErrConnectionLost; calls to the others
// go on.
func TestClientDisconnectMidCall(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	started := make(chan struct{})
	blocker := rpc.NewRouter()
	blocker.Register("whoami", rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	a := e.mustDial(t, "/rpc", "a", blocker)
	e.mustDial(t, "/cbor", "b", nil)
	sa, sb := e.peerNamed("a"), e.peerNamed("b")

	errA := make(chan error, 1)
	go func() {
		_, err := rpc.Call[string](ctx, sa, "whoami", nil)
		errA <- err
	}()
	<-started
	a.conn.Abort()
	select {
	case err := <-errA:
		if !errors.Is(err, rpc.ErrConnectionLost) {
			t.Errorf("call to the dropped client: %v; want ErrConnectionLost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call to the dropped client did not end")
	}
	for i := range 3 {
		if who, err := rpc.Call[string](ctx, sb, "whoami", nil); err != nil || who != "b" {
			t.Errorf("call %d to the other client: %q, %v", i, who, err)
		}
	}
	<-a.peer.Done()
	e.waitFor(t, 5*time.Second, "the dropped client to leave the set", func() bool { return e.peers.Len() == 1 })
}

// Concurrent calls in both directions on one session do not mix up
// answers (the server's writes are serialised).
func TestConcurrentCallsBothWays(t *testing.T) {
	e := newEnv(t, nil)
	ctx := testContext(t)
	c := e.mustDial(t, "/cbor", "busy", nil)
	sp := e.peerNamed("busy")
	errs := make(chan error, 100)
	for i := range 50 {
		go func() {
			sum, err := rpc.Call[int](ctx, c.peer, "add", []int{i, 1})
			if err == nil && sum != i+1 {
				err = errors.New("wrong sum")
			}
			errs <- err
		}()
		go func() {
			p, err := rpc.Call[int](ctx, sp, "mul", mulParams{A: i, B: 2})
			if err == nil && p != 2*i {
				err = errors.New("wrong product")
			}
			errs <- err
		}()
	}
	for range 100 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
