package json_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
)

func decodeOne(t *testing.T, s string) codec.Message {
	t.Helper()
	msgs, batch, err := json.Codec{}.Decode(nil, []byte(s))
	if err != nil || batch || len(msgs) != 1 {
		t.Fatalf("Decode(%s) = %v, %v, %v", s, msgs, batch, err)
	}
	return msgs[0]
}

func TestEncodeMatchesSpecExamples(t *testing.T) {
	c := json.Codec{}
	cases := []struct {
		m    codec.Message
		want string
	}{
		{codec.Message{Method: "subtract", Params: []byte(`[42, 23]`), ID: codec.Int(1)},
			`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`},
		{codec.Message{Method: "update", Params: []byte(`[1,2,3,4,5]`)},
			`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`},
		{codec.Message{Method: "foobar"}, `{"jsonrpc": "2.0", "method": "foobar"}`},
		{codec.Message{Result: []byte(`19`), ID: codec.Int(1)}, `{"jsonrpc": "2.0", "result": 19, "id": 1}`},
		{codec.Message{Error: &codec.Error{Code: -32601, Message: "Method not found"}, ID: codec.String("1")},
			`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}`},
		{codec.Message{Error: &codec.Error{Code: -32700, Message: "Parse error"}, ID: codec.Null()},
			`{"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}`},
		{codec.Message{Error: &codec.Error{Code: 1, Message: "m", Data: []byte(`{"a":1}`)}, ID: codec.Int(-2)},
			`{"jsonrpc": "2.0", "error": {"code": 1, "message": "m", "data": {"a":1}}, "id": -2}`},
		{codec.Message{Method: "q\"\\\n\x01é\xff", ID: codec.Number("1.5")},
			`{"jsonrpc": "2.0", "method": "q\"\\\n\u0001é\ufffd", "id": 1.5}`},
	}
	for _, c2 := range cases {
		got, err := c.AppendMessage(nil, &c2.m)
		if err != nil || string(got) != c2.want {
			t.Errorf("got  %s (%v)\nwant %s", got, err, c2.want)
		}
		// And what we write, we read back the same.
		back := decodeOne(t, string(got))
		if back.Invalid != "" || back.ID != c2.m.ID || !strings.EqualFold(string(back.Params), string(c2.m.Params)) {
			t.Errorf("round trip of %s: %+v", got, back)
		}
	}
	if got := string(c.AppendBatch(nil, [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`)})); got != `[{"a":1}, {"b":2}]` {
		t.Errorf("batch: %s", got)
	}
}

func TestDecode(t *testing.T) {
	m := decodeOne(t, ` {"id": "x", "params" : {"a": [1, "]}"]}, "method":"m\u00e9", "jsonrpc":"2.0", "extra": {"id": 9}} `)
	want := codec.Message{ID: codec.String("x"), Method: "mé", Params: []byte(`{"a": [1, "]}"]}`)}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %+v\nwant %+v", m, want)
	}
	r := decodeOne(t, `{"jsonrpc":"2.0","result":null,"id":7}`)
	if string(r.Result) != "null" || r.IsRequest() {
		t.Fatalf("null result: %+v", r)
	}
	e := decodeOne(t, `{"jsonrpc":"2.0","error":{"code":-32000,"message":"x","data":[1]},"id":null}`)
	if e.Error == nil || e.Error.Code != -32000 || string(e.Error.Data) != "[1]" || !e.ID.IsNull() {
		t.Fatalf("error: %+v", e)
	}
	if n := decodeOne(t, `{"jsonrpc":"2.0","method":"n"}`); !n.IsNotification() {
		t.Fatalf("notification: %+v", n)
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, s := range []string{
		`{"method":"m","id":1}`,
		`{"jsonrpc":"1.0","method":"m","id":1}`,
		`{"jsonrpc":"2.0","method":"","id":1}`,
		`{"jsonrpc":"2.0","method":"m","params":3,"id":1}`,
		`{"jsonrpc":"2.0","method":"m","params":null,"id":1}`,
		`{"jsonrpc":"2.0","method":"m","id":{}}`,
		`{"jsonrpc":"2.0","method":"m","id":true}`,
		`{"jsonrpc":"2.0","method":"m","result":1,"id":1}`,
		`{"jsonrpc":"2.0","result":1}`,
		`{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":"x","message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":1.5,"message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":"1","message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","error":{"code":1e3,"message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","error":{"message":"x"},"id":1}`,
		`{"jsonrpc":"2.0","method":"a","method":"b","id":1}`,
		`{"jsonrpc":"2.0","m\u0065thod":"a","id":1}`,
		`"just a string"`,
		`42`,
	} {
		m := decodeOne(t, s)
		if m.Invalid == "" {
			t.Errorf("%s: accepted as %+v", s, m)
		}
	}
	if m := decodeOne(t, `{"jsonrpc":"2.0","method":3,"id":5}`); m.ID != codec.Int(5) {
		t.Errorf("invalid message lost its id: %+v", m)
	}
	if m := decodeOne(t, `{"jsonrpc":"2.0","method":"m","id":23,"id":24}`); m.Invalid == "" || m.ID != codec.Int(23) {
		t.Errorf("repeated id: want invalid with the first id, got %+v", m)
	}
}

func TestDecodeParseErrors(t *testing.T) {
	for _, s := range []string{``, `{`, `{"a":}`, `[1,]`, `{"jsonrpc":"2.0"} x`, "\xff", `{"a":"\x01"}`} {
		if _, _, err := (json.Codec{}).Decode(nil, []byte(s)); !errors.Is(err, codec.ErrParse) {
			t.Errorf("%q: err = %v, want ErrParse", s, err)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	msgs, batch, err := json.Codec{}.Decode(nil, []byte(` [ {"jsonrpc":"2.0","method":"a","id":1} , 5, [] ] `))
	if err != nil || !batch || len(msgs) != 3 || msgs[0].Method != "a" || msgs[1].Invalid == "" || msgs[2].Invalid == "" {
		t.Fatalf("%+v %v %v", msgs, batch, err)
	}
	msgs, batch, err = json.Codec{}.Decode(nil, []byte(`[]`))
	if err != nil || !batch || len(msgs) != 0 {
		t.Fatalf("empty: %+v %v %v", msgs, batch, err)
	}
}

// A batch of up to codec.MaxBatch messages is decoded; one more, and the
// whole batch is refused with codec.ErrBatch, dst as it was.
func TestDecodeBatchLimit(t *testing.T) {
	batch := func(n int) []byte {
		return []byte("[" + strings.TrimSuffix(strings.Repeat(`{"jsonrpc":"2.0","method":"n"},`, n), ",") + "]")
	}
	msgs, isBatch, err := json.Codec{}.Decode(nil, batch(codec.MaxBatch))
	if err != nil || !isBatch || len(msgs) != codec.MaxBatch {
		t.Fatalf("batch of MaxBatch: %d messages, %v, %v", len(msgs), isBatch, err)
	}
	dst := []codec.Message{{Method: "kept"}}
	msgs, _, err = json.Codec{}.Decode(dst, batch(codec.MaxBatch+1))
	if err != codec.ErrBatch || !errors.Is(err, codec.ErrLimit) || errors.Is(err, codec.ErrParse) {
		t.Fatalf("batch of MaxBatch+1: err = %v, want codec.ErrBatch", err)
	}
	if len(msgs) != 1 || msgs[0].Method != "kept" || cap(msgs) > 1 && msgs[:2][1].Method != "" {
		t.Fatalf("batch of MaxBatch+1: dst = %d messages", len(msgs))
	}
	// Not well-formed is a parse error, however long the batch.
	if _, _, err := (json.Codec{}).Decode(nil, batch(codec.MaxBatch + 1)[1:]); !errors.Is(err, codec.ErrParse) {
		t.Fatalf("truncated long batch: %v", err)
	}
}

// Decode takes nesting as deep as a message can hold, anywhere: the
// limits on depth are Unmarshal's, and apply to a value when it is decoded.
func TestDecodeDeepValues(t *testing.T) {
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	m := decodeOne(t, `{"jsonrpc":"2.0","method":"m","params":`+deep+`,"x":`+deep+`,"id":1}`)
	if m.Invalid != "" || len(m.Params) != len(deep) || m.ID != codec.Int(1) {
		t.Fatalf("deep params: %.80v", m)
	}
	e := decodeOne(t, `{"jsonrpc":"2.0","error":{"code":-1,"message":"m","data":`+deep+`},"id":2}`)
	if e.Invalid != "" || e.Error == nil || len(e.Error.Data) != len(deep) {
		t.Fatalf("deep error data: %.80v", e)
	}
	if err := (json.Codec{}).Unmarshal(m.Params, new(any)); err != codec.ErrDepth {
		t.Fatalf("Unmarshal of the deep params: %v", err)
	}
}

// The error object: an integer code and a string message, each once; data
// kept as it is; other members ignored.
func TestDecodeErrorObject(t *testing.T) {
	e := decodeOne(t, `{"jsonrpc":"2.0","error":{"x":[1,{"code":2}],"data" : {"d":[1]},"message":"m\u00e9","code":-9223372036854775808},"id":1}`)
	if e.Invalid != "" || e.Error == nil || e.Error.Code != -9223372036854775808 || e.Error.Message != "mé" || string(e.Error.Data) != `{"d":[1]}` {
		t.Fatalf("%+v %+v", e, e.Error)
	}
	for _, s := range []string{
		`{"code":1,"code":2,"message":"x"}`,
		`{"code":1,"message":"x","message":"y"}`,
		`{"code":1,"message":"x","data":1,"data":2}`,
		`{"code":9223372036854775808,"message":"x"}`,
		`{"code":1,"message":null}`,
		`{"code":1,"message":["x"]}`,
		`{"code":-1.0,"message":"x"}`,
		`[1]`,
	} {
		m := decodeOne(t, `{"jsonrpc":"2.0","error":`+s+`,"id":1}`)
		if m.Invalid == "" {
			t.Errorf("error %s: accepted as %+v", s, m.Error)
		}
	}
}

func TestAppendValue(t *testing.T) {
	got, err := json.Codec{}.AppendValue([]byte("x"), map[string]string{"a": "<b>"})
	if err != nil || string(got) != `x{"a":"<b>"}` {
		t.Fatalf("%s %v", got, err)
	}
	if _, err := (json.Codec{}).AppendValue(nil, func() {}); err == nil {
		t.Fatal("encoding a func should fail")
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`,
		`{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`,
		`{"jsonrpc": "2.0", "result": 19, "id": 1}`,
		`{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}`,
		`[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"foo": "boo"}, 1]`,
		`{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		`[]`, `{"jsonrpc":"2.0","method":"m","id":1.5e3}`, `{"id":"\ud83d\ude00"}`,
	} {
		f.Add([]byte(s))
	}
	c := json.Codec{}
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, _, err := c.Decode(nil, data)
		if err != nil {
			return
		}
		for _, m := range msgs {
			if m.Invalid != "" {
				continue
			}
			enc, err := c.AppendMessage(nil, &m)
			if err != nil {
				t.Fatalf("re-encoding %+v: %v", m, err)
			}
			again, batch, err := c.Decode(nil, enc)
			if err != nil || batch || len(again) != 1 || again[0].Invalid != "" {
				t.Fatalf("re-decoding %s: %+v %v", enc, again, err)
			}
			a := again[0]
			if a.ID != m.ID || a.Method != m.Method || string(a.Params) != string(m.Params) ||
				string(a.Result) != string(m.Result) || (a.Error == nil) != (m.Error == nil) {
				t.Fatalf("round trip changed the message:\n%+v\n%+v", m, a)
			}
		}
	})
}

func BenchmarkDecodeRequest(b *testing.B) {
	data := []byte(`{"jsonrpc": "2.0", "method": "add", "params": [1,2], "id": 1}`)
	dst := make([]codec.Message, 0, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := (json.Codec{}).Decode(dst[:0], data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	m := codec.Message{Method: "add", Params: []byte(`[1,2]`), ID: codec.Int(1)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = json.Codec{}.AppendMessage(buf[:0], &m)
	}
}
