package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// countParams are the params of the "count" method used below.
type countParams struct {
	N    int    `json:"n"`
	Note string `json:"note,omitempty"`
}

// counter sends 1..N as partial results and answers "done".
func counter(ctx context.Context, p countParams) (string, error) {
	for i := 1; i <= p.N; i++ {
		if err := rpc.Progress(ctx, i); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("done %d %v%s", p.N, rpc.WantsProgress(ctx), p.Note), nil
}

func TestProgressArrivesInOrderBeforeTheAnswer(t *testing.T) {
	for _, c := range codecs {
		for name, params := range map[string]any{
			"struct":  countParams{N: 50, Note: "!"},
			"pointer": &countParams{N: 50, Note: "!"},
			"map":     map[string]any{"n": 50, "note": "!"},
			"raw":     mustRaw(t, c.Name(), map[string]any{"n": 50, "note": "!"}),
		} {
			t.Run(c.Name()+"/"+name, func(t *testing.T) {
				opts := []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(router(t, "count", rpc.Func(counter)))}
				_, b := pair(t, opts, opts)
				var got []int
				var result string
				err := rpc.CallWithProgress(testCtx(t), b, "count", params, &result, func(v rpc.Raw) {
					var n int
					if err := v.Decode(&n); err != nil {
						t.Errorf("partial result %q: %v", v.Bytes(), err)
					}
					got = append(got, n)
				})
				if err != nil {
					t.Fatal(err)
				}
				if result != "done 50 true!" {
					t.Fatalf("result %q", result)
				}
				if len(got) != 50 {
					t.Fatalf("got %d partial results, want 50: %v", len(got), got)
				}
				for i, n := range got {
					if n != i+1 {
						t.Fatalf("partial result %d is %d: out of order: %v", i, n, got)
					}
				}
			})
		}
	}
}

func mustRaw(t *testing.T, codecName string, v any) rpc.Raw {
	t.Helper()
	for _, cc := range codecs {
		if cc.Name() == codecName {
			r, err := rpc.EncodeRaw(cc, v)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	t.Fatalf("no codec %s", codecName)
	return rpc.Raw{}
}

func TestProgressWithNoParams(t *testing.T) {
	h := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		if err := rpc.Progress(ctx, "half"); err != nil {
			return nil, err
		}
		return "whole", nil
	})
	_, b := pair(t, []rpc.Option{rpc.WithHandler(router(t, "work", h))}, nil)
	var parts []string
	var result string
	err := rpc.CallWithProgress(testCtx(t), b, "work", nil, &result, func(v rpc.Raw) {
		var s string
		_ = v.Decode(&s)
		parts = append(parts, s)
	})
	if err != nil || result != "whole" || strings.Join(parts, ",") != "half" {
		t.Fatalf("err %v, result %q, parts %q", err, result, parts)
	}
}

func TestProgressNeedsObjectParams(t *testing.T) {
	_, b := pair(t, []rpc.Option{rpc.WithHandler(router(t, "add", rpc.Func(add)))}, nil)
	called := false
	err := rpc.CallWithProgress(testCtx(t), b, "add", []int{1, 2}, nil, func(rpc.Raw) { called = true })
	if !errors.Is(err, rpc.ErrProgressParams) || called {
		t.Fatalf("err %v, called %v; want ErrProgressParams", err, called)
	}
}

// A caller that did not ask is never sent a partial result: the handler's
// Progress sends nothing and returns nil, and the wire holds only the
// answer.
func TestProgressNotSentToCallersThatDidNotAsk(t *testing.T) {
	// On the wire: the answer alone.
	_, raw := newRaw(t, rpc.WithHandler(router(t, "count", rpc.Func(counter))))
	raw.send(t, `{"jsonrpc":"2.0","id":1,"method":"count","params":{"n":3}}`)
	if got := raw.next(t); !strings.Contains(got, `"result": "done 3 false"`) {
		t.Fatalf("first message %s: want the answer alone", got)
	}
	raw.none(t)
	// Go callers over both codecs: the handler learns nobody asked.
	for _, c := range codecs {
		opts := []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(router(t, "count", rpc.Func(counter)))}
		_, b := pair(t, opts, opts)
		r, err := rpc.Call[string](testCtx(t), b, "count", countParams{N: 3})
		if err != nil || r != "done 3 false" {
			t.Fatalf("%s: %q %v", c.Name(), r, err)
		}
	}
}

// The wire convention, as a JavaScript client uses it: its own token, a
// string here, comes back in each $/progress before the answer.
func TestProgressWireConvention(t *testing.T) {
	_, raw := newRaw(t, rpc.WithHandler(router(t, "count", rpc.Func(counter))))
	raw.send(t, `{"jsonrpc":"2.0","id":"x","method":"count","params":{"n":2,"partialResultToken":"tok-9"}}`)
	want := []string{
		`{"jsonrpc": "2.0", "method": "$/progress", "params": {"token":"tok-9","value":1}}`,
		`{"jsonrpc": "2.0", "method": "$/progress", "params": {"token":"tok-9","value":2}}`,
		`{"jsonrpc": "2.0", "result": "done 2 true", "id": "x"}`,
	}
	for _, w := range want {
		if got := raw.next(t); got != w {
			t.Fatalf("got %s\nwant %s", got, w)
		}
	}
	// A number token, and a token that is neither: an object is ignored.
	raw.send(t, `{"jsonrpc":"2.0","id":2,"method":"count","params":{"n":1,"partialResultToken":7}}`)
	if got := raw.next(t); got != `{"jsonrpc": "2.0", "method": "$/progress", "params": {"token":7,"value":1}}` {
		t.Fatalf("got %s", got)
	}
	raw.next(t)
	raw.send(t, `{"jsonrpc":"2.0","id":3,"method":"count","params":{"n":1,"partialResultToken":{"a":1}}}`)
	if got := raw.next(t); !strings.Contains(got, `"result": "done 1 false"`) {
		t.Fatalf("got %s", got)
	}
	// Positional params carry no token, even if one is spelled in them.
	raw.send(t, `{"jsonrpc":"2.0","id":4,"method":"count","params":["partialResultToken"]}`)
	if got := raw.next(t); !strings.Contains(got, `"error"`) {
		t.Fatalf("got %s", got)
	}
	raw.none(t)
}

// Parley's own token replaces one the caller left in the params, so that a
// router forwarding a call gets the partial results itself.
func TestProgressTokenReplaced(t *testing.T) {
	_, b := pair(t, []rpc.Option{rpc.WithHandler(router(t, "count", rpc.Func(counter)))}, nil)
	n := 0
	err := rpc.CallWithProgress(testCtx(t), b, "count",
		map[string]any{"n": 2, "partialResultToken": "someone-else's"}, nil, func(rpc.Raw) { n++ })
	if err != nil || n != 2 {
		t.Fatalf("err %v, %d partial results", err, n)
	}
}

func TestProgressAfterReturnFails(t *testing.T) {
	leaked := make(chan context.Context, 1)
	h := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		leaked <- ctx
		return "ok", nil
	})
	_, b := pair(t, []rpc.Option{rpc.WithHandler(router(t, "m", h))}, nil)
	if err := rpc.CallWithProgress(testCtx(t), b, "m", nil, nil, func(rpc.Raw) { t.Error("partial result") }); err != nil {
		t.Fatal(err)
	}
	if err := rpc.Progress(<-leaked, 1); !errors.Is(err, rpc.ErrProgressEnded) {
		t.Fatalf("Progress after return: %v", err)
	}
}

// Cancelling a progressive call from its callback stops the callee.
func TestProgressCancelStopsCallee(t *testing.T) {
	stopped := make(chan error, 1)
	h := rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
		for i := 0; ; i++ {
			if err := rpc.Progress(ctx, i); err != nil {
				stopped <- err
				return nil, err
			}
			select {
			case <-ctx.Done():
				stopped <- ctx.Err()
				return nil, ctx.Err()
			default:
			}
		}
	})
	_, b := pair(t, []rpc.Option{rpc.WithHandler(router(t, "stream", h))}, nil)
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	seen := 0
	err := rpc.CallWithProgress(ctx, b, "stream", nil, nil, func(rpc.Raw) {
		seen++
		if seen == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	select {
	case err := <-stopped:
		if err == nil {
			t.Fatal("callee stopped without error")
		}
	case <-testCtx(t).Done():
		t.Fatal("the callee went on after the caller cancelled")
	}
}

// A partial result from a peer for a token it was not given is dropped.
func TestProgressForeignTokenDropped(t *testing.T) {
	p, raw := newRaw(t)
	done := make(chan error, 1)
	var parts []string
	go func() {
		done <- rpc.CallWithProgress(testCtx(t), p, "m", nil, nil, func(v rpc.Raw) { parts = append(parts, string(v.Bytes())) })
	}()
	req := raw.next(t)
	var tok string
	if i := strings.Index(req, `"partialResultToken":`); i >= 0 {
		tok = strings.TrimRight(req[i+len(`"partialResultToken":`):], "}")
		tok = tok[:strings.IndexAny(tok+",}", ",}")]
	}
	if tok == "" {
		t.Fatalf("request without a token: %s", req)
	}
	raw.send(t, `{"jsonrpc":"2.0","method":"$/progress","params":{"token":999999999,"value":"forged"}}`)
	raw.send(t, `{"jsonrpc":"2.0","method":"$/progress","params":{"token":"`+tok+`","value":"wrong type"}}`)
	raw.send(t, `{"jsonrpc":"2.0","method":"$/progress","params":{"token":`+tok+`,"value":"mine"}}`)
	raw.send(t, `{"jsonrpc":"2.0","id":1,"result":null}`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Join(parts, ",") != `"mine"` {
		t.Fatalf("partial results %v", parts)
	}
	// After the answer, nothing more reaches the callback: a call from the
	// raw end, answered after the late partial result is read, orders it.
	raw.send(t, `{"jsonrpc":"2.0","method":"$/progress","params":{"token":`+tok+`,"value":"late"}}`)
	raw.send(t, `{"jsonrpc":"2.0","id":"sync","method":"nothing"}`)
	if got := raw.next(t); !strings.Contains(got, `"sync"`) {
		t.Fatalf("got %s", got)
	}
	if strings.Join(parts, ",") != `"mine"` {
		t.Fatalf("partial results after the answer: %v", parts)
	}
}

func TestRawAcrossCodecs(t *testing.T) {
	j, err := rpc.EncodeRaw(json.Codec{}, map[string]any{"a": []int{1, 2}, "b": "x"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := j.For(cbor.Codec{})
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := c.Decode(&back); err != nil || back["b"] != "x" {
		t.Fatalf("%v %v", back, err)
	}
	// A CBOR Raw inside a value written as JSON is converted.
	out, err := json.Codec{}.Marshal(map[string]any{"v": c})
	if err != nil || string(out) != `{"v":{"a":[1,2],"b":"x"}}` {
		t.Fatalf("%s %v", out, err)
	}
	// A JSON Raw inside a CBOR value must be converted first.
	if _, err := (cbor.Codec{}).Marshal(map[string]any{"v": j}); err == nil {
		t.Fatal("a JSON Raw written inside CBOR")
	}
	// Params given as a Raw of another codec are converted on the way out.
	opts := []rpc.Option{rpc.WithCodec(cbor.Codec{}), rpc.WithHandler(router(t, "echo", rpc.Func(func(_ context.Context, m map[string]any) (map[string]any, error) { return m, nil })))}
	_, b := pair(t, opts, opts)
	got, err := rpc.Call[map[string]any](testCtx(t), b, "echo", j)
	if err != nil || got["b"] != "x" {
		t.Fatalf("%v %v", got, err)
	}
	// A Raw member read by CBOR has no codec until bound.
	var m struct {
		V rpc.Raw `json:"v"`
	}
	if err := (cbor.Codec{}).Unmarshal(mustMarshal(t, cbor.Codec{}, map[string]any{"v": 5}), &m); err != nil {
		t.Fatal(err)
	}
	if m.V.Codec() != nil || m.V.Decode(new(int)) == nil {
		t.Fatal("an unbound CBOR Raw decoded")
	}
	var five int
	if err := rpc.NewRaw(cbor.Codec{}, m.V.Bytes()).Decode(&five); err != nil || five != 5 {
		t.Fatalf("%d %v", five, err)
	}
}

func mustMarshal(t *testing.T, c interface{ Marshal(any) ([]byte, error) }, v any) []byte {
	t.Helper()
	b, err := c.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A handler sends partial results with Progress; a caller that asks for
// them with CallWithProgress receives each, in order, before the answer.
func ExampleCallWithProgress() {
	left, right := rpc.Pipe()
	router := rpc.NewRouter()
	router.Register("download", rpc.Func(func(ctx context.Context, p struct{ File string }) (string, error) {
		for pct := 25; pct < 100; pct += 25 {
			if err := rpc.Progress(ctx, pct); err != nil {
				return "", err
			}
		}
		return p.File + ": complete", nil
	}))
	server, _ := rpc.NewPeer(left, rpc.WithHandler(router))
	defer server.Close()
	client, _ := rpc.NewPeer(right)
	defer client.Close()

	var result string
	err := rpc.CallWithProgress(context.Background(), client, "download", map[string]string{"File": "a.txt"}, &result,
		func(v rpc.Raw) {
			var pct int
			v.Decode(&pct)
			fmt.Printf("%d%%\n", pct)
		})
	fmt.Println(result, err)
	// Output:
	// 25%
	// 50%
	// 75%
	// a.txt: complete <nil>
}

// TestEmptyRaw: an empty Raw (a member that was absent) goes out as null
// where a value must be, and params that are an empty Raw as no params,
// with either codec; written as nothing, it made a message no end could
// read, and the call it answered was never answered.
func TestEmptyRaw(t *testing.T) {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		t.Run(c.Name(), func(t *testing.T) {
			r := router(t, "echo", rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
				if !req.Params().IsZero() {
					return nil, fmt.Errorf("params %q, want none", req.Params().Bytes())
				}
				return req.Params(), nil
			}))
			r.Register("empty", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
				return rpc.Raw{}, nil
			}))
			r.Register("fail", rpc.HandlerFunc(func(context.Context, *rpc.Request) (any, error) {
				return nil, &rpc.Error{Code: 7, Message: "no", Data: rpc.Raw{}}
			}))
			opts := []rpc.Option{rpc.WithCodec(c), rpc.WithHandler(r)}
			_, client := pair(t, opts, []rpc.Option{rpc.WithCodec(c)})
			var got rpc.Raw
			if err := client.Call(testCtx(t), "echo", nil, &got); err != nil || !got.IsNull() || got.IsZero() {
				t.Fatalf("echo of absent params: %q, %v; want null", got.Bytes(), err)
			}
			got = rpc.Raw{}
			if err := client.Call(testCtx(t), "empty", nil, &got); err != nil || !got.IsNull() || got.IsZero() {
				t.Fatalf("an empty Raw result: %q, %v; want null", got.Bytes(), err)
			}
			got = rpc.Raw{}
			if err := client.Call(testCtx(t), "echo", rpc.Raw{}, &got); err != nil || !got.IsNull() || got.IsZero() {
				t.Fatalf("echo of an empty Raw: %q, %v; want null", got.Bytes(), err)
			}
			err := client.Call(testCtx(t), "fail", nil, nil)
			var e *rpc.Error
			if !errors.As(err, &e) || e.Code != 7 || e.Data != nil {
				t.Fatalf("error with empty Raw data: %#v", err)
			}
		})
	}
}
