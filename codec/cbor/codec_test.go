package cbor_test

import (
	"bytes"
	"math"
	"testing"
	"unsafe"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

func TestNameBinary(t *testing.T) {
	var c codec.Codec = cbor.Codec{}
	if c.Name() != "cbor" || !c.Binary() {
		t.Fatalf("Name() = %q, Binary() = %v", c.Name(), c.Binary())
	}
}

// allIDs holds every kind of id, including numbers at CBOR's edges.
var allIDs = []codec.ID{
	codec.Int(0),
	codec.Int(1),
	codec.Int(23),
	codec.Int(24),
	codec.Int(-1),
	codec.Int(-25),
	codec.Int(math.MaxInt64),
	codec.Int(math.MinInt64),
	codec.String(""),
	codec.String("abc"),
	codec.String("ünïcødé"),
	codec.Null(),
	codec.Number("1.5"),
	codec.Number("-0.25"),
	codec.Number("1e+300"),
	codec.Number("9223372036854775808"),   // 2^63
	codec.Number("18446744073709551615"),  // 2^64-1
	codec.Number("-9223372036854775809"),  // -2^63-1
	codec.Number("-18446744073709551616"), // -2^64
}

func roundTrip(t *testing.T, m codec.Message) codec.Message {
	t.Helper()
	data := encode(t, &m)
	got := decodeOne(t, data)
	if d := sameMessage(&m, &got); d != "" {
		t.Errorf("round trip of %+v via %x: %s", m, data, d)
	}
	return got
}

func TestRoundTripRequests(t *testing.T) {
	params := []any{nil, []byte{0x82, 0x01, 0x02}, []byte{0xa1, 0x61, 'a', 0x01}, []byte{0x80}, []byte{0xa0}}
	for _, id := range allIDs {
		for _, p := range params {
			m := codec.Message{ID: id, Method: "sum"}
			if p != nil {
				m.Params = p.([]byte)
			}
			roundTrip(t, m)
		}
	}
}

func TestRoundTripNotifications(t *testing.T) {
	got := roundTrip(t, codec.Message{Method: "notify", Params: []byte{0x81, 0x01}})
	if !got.IsNotification() {
		t.Error("not a notification")
	}
	roundTrip(t, codec.Message{Method: "ping"})
}

func TestRoundTripResponses(t *testing.T) {
	results := [][]byte{{0xf6}, {0x01}, {0x63, 'a', 'b', 'c'}, {0x82, 0x01, 0x02}, {0xa1, 0x61, 'x', 0xf5}}
	for _, id := range allIDs {
		for _, r := range results {
			roundTrip(t, codec.Message{ID: id, Result: r})
		}
		roundTrip(t, codec.Message{ID: id, Error: &codec.Error{Code: -32601, Message: "method not found"}})
		roundTrip(t, codec.Message{ID: id, Error: &codec.Error{Code: 42, Message: "", Data: []byte{0x82, 0x01, 0xf6}}})
		roundTrip(t, codec.Message{ID: id, Error: &codec.Error{Code: math.MinInt64, Message: "x", Data: []byte{0xf6}}})
	}
}

func TestResponseDefaults(t *testing.T) {
	// A nil Result is sent as null, and a zero ID as a null id.
	got := decodeOne(t, encode(t, &codec.Message{Error: &codec.Error{Code: -32700, Message: "parse error"}}))
	if !got.ID.IsNull() || got.Error == nil || got.Error.Code != -32700 {
		t.Errorf("error response with zero ID decoded as %+v", got)
	}
	got = decodeOne(t, encode(t, &codec.Message{ID: codec.Int(1)}))
	if !bytes.Equal(got.Result, []byte{0xf6}) {
		t.Errorf("Result = %x, want f6", got.Result)
	}
}

func TestWireFormat(t *testing.T) {
	tests := []struct {
		name string
		m    codec.Message
		want []byte
	}{
		{"request", codec.Message{ID: codec.Int(7), Method: "sum", Params: ar(in(1), in(2))},
			mp(kJSON, ver, kMethod, tx("sum"), kParams, ar(in(1), in(2)), kID, in(7))},
		{"notification", codec.Message{Method: "ping"},
			mp(kJSON, ver, kMethod, tx("ping"))},
		{"string id", codec.Message{ID: codec.String("a"), Method: "m"},
			mp(kJSON, ver, kMethod, tx("m"), kID, tx("a"))},
		{"null id", codec.Message{ID: codec.Null(), Method: "m"},
			mp(kJSON, ver, kMethod, tx("m"), kID, null)},
		{"negative id", codec.Message{ID: codec.Int(-500), Method: "m"},
			mp(kJSON, ver, kMethod, tx("m"), kID, hx("39 01f3"))},
		{"float id", codec.Message{ID: codec.Number("1.5"), Method: "m"},
			mp(kJSON, ver, kMethod, tx("m"), kID, hx("fb 3ff8000000000000"))},
		{"big id", codec.Message{ID: codec.Number("18446744073709551615"), Method: "m"},
			mp(kJSON, ver, kMethod, tx("m"), kID, hx("1b ffffffffffffffff"))},
		{"result", codec.Message{ID: codec.Int(1), Result: tx("ok")},
			mp(kJSON, ver, kResult, tx("ok"), kID, in(1))},
		{"error", codec.Message{ID: codec.Int(1), Error: &codec.Error{Code: -32601, Message: "no"}},
			mp(kJSON, ver, kError, mp(tx("code"), in(-32601), tx("message"), tx("no")), kID, in(1))},
		{"error data", codec.Message{Error: &codec.Error{Code: 1, Message: "m", Data: in(5)}},
			mp(kJSON, ver, kError, mp(tx("code"), in(1), tx("message"), tx("m"), tx("data"), in(5)), kID, null)},
	}
	for _, tt := range tests {
		got := encode(t, &tt.m)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %x, want %x", tt.name, got, tt.want)
		}
	}
	// The exact bytes of the first example, spelled out once.
	want := hx("a4 67 6a736f6e727063 63 322e30 66 6d6574686f64 63 73756d 66 706172616d73 82 01 02 62 6964 07")
	if !bytes.Equal(tests[0].want, want) {
		t.Fatalf("test helper mismatch: %x", tests[0].want)
	}
}

func TestAppendMessageAppends(t *testing.T) {
	prefix := []byte("prefix")
	m := codec.Message{ID: codec.Int(1), Method: "m"}
	got, err := cbor.Codec{}.AppendMessage(prefix, &m)
	if err != nil || !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], encode(t, &m)) {
		t.Fatalf("AppendMessage(prefix) = %x, %v", got, err)
	}
}

func TestAppendMessageErrors(t *testing.T) {
	bad := []codec.Message{
		{ID: codec.Number("1e400"), Method: "m"},
		{ID: codec.Number("1e400"), Result: null},
		{ID: codec.Number("bogus"), Method: "m"},
	}
	for _, m := range bad {
		dst := []byte{1, 2, 3}
		got, err := cbor.Codec{}.AppendMessage(dst, &m)
		if err == nil {
			t.Errorf("AppendMessage(%+v) succeeded: %x", m, got)
		}
		if !bytes.Equal(got, []byte{1, 2, 3}) {
			t.Errorf("AppendMessage(%+v) returned %x on error, want dst unchanged", m, got)
		}
	}
}

// TestAppendMessageReading checks how AppendMessage reads messages with
// more fields set than their kind uses (as the JSON codec does).
func TestAppendMessageReading(t *testing.T) {
	e := &codec.Error{Code: 1, Message: "x"}
	tests := []struct {
		in, want codec.Message
	}{
		{codec.Message{ID: codec.Int(1), Method: "m", Result: null, Error: e}, codec.Message{ID: codec.Int(1), Method: "m"}},
		{codec.Message{ID: codec.Int(1), Result: in(1), Error: e}, codec.Message{ID: codec.Int(1), Error: e}},
		{codec.Message{ID: codec.Int(1), Result: []byte{}}, codec.Message{ID: codec.Int(1), Result: null}},
		{codec.Message{Method: "m", Params: []byte{}}, codec.Message{Method: "m"}},
		{codec.Message{Error: &codec.Error{Code: 1, Message: "x", Data: []byte{}}}, codec.Message{ID: codec.Null(), Error: e}},
		{codec.Message{ID: codec.Int(1), Method: "m", Invalid: "ignored"}, codec.Message{ID: codec.Int(1), Method: "m"}},
	}
	for _, tt := range tests {
		got := decodeOne(t, encode(t, &tt.in))
		if d := sameMessage(&tt.want, &got); d != "" {
			t.Errorf("%+v: %s", tt.in, d)
		}
	}

	// The result may already sit in dst, as the rpc package encodes it.
	buf := make([]byte, 0, 64)
	buf = append(buf, in(99)...)
	out, err := cbor.Codec{}.AppendMessage(buf, &codec.Message{ID: codec.Int(1), Result: buf})
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeOne(t, out[len(buf):]); !bytes.Equal(got.Result, in(99)) {
		t.Errorf("Result = %x, want %x", got.Result, in(99))
	}
}

func TestBatchRoundTrip(t *testing.T) {
	msgs := []codec.Message{
		{ID: codec.Int(1), Method: "a", Params: ar()},
		{Method: "n"},
		{ID: codec.String("x"), Result: in(3)},
		{ID: codec.Null(), Error: &codec.Error{Code: -32600, Message: "bad"}},
		{ID: codec.Number("2.5"), Result: null},
	}
	var encoded [][]byte
	for i := range msgs {
		encoded = append(encoded, encode(t, &msgs[i]))
	}
	data := cbor.Codec{}.AppendBatch([]byte("x"), encoded)
	if data[0] != 'x' || data[1] != 0x85 {
		t.Fatalf("AppendBatch = %x", data)
	}
	dst := make([]codec.Message, 1, 8) // a message already there stays
	got, batch, err := cbor.Codec{}.Decode(dst, data[1:])
	if err != nil || !batch || len(got) != 1+len(msgs) {
		t.Fatalf("Decode: %d messages, batch=%v, err=%v", len(got), batch, err)
	}
	for i := range msgs {
		if d := sameMessage(&msgs[i], &got[i+1]); d != "" {
			t.Errorf("message %d: %s", i, d)
		}
	}

	// An empty batch.
	data = cbor.Codec{}.AppendBatch(nil, nil)
	got, batch, err = cbor.Codec{}.Decode(nil, data)
	if err != nil || !batch || len(got) != 0 || !bytes.Equal(data, []byte{0x80}) {
		t.Fatalf("empty batch %x: %d messages, batch=%v, err=%v", data, len(got), batch, err)
	}
}

func TestDecodeForeignEncodings(t *testing.T) {
	// Other encoders may order keys differently, add members and use
	// longer heads or smaller floats than this package writes.
	tests := []struct {
		name string
		data []byte
		want codec.Message
	}{
		{"id first", mp(kID, in(3), tx("extra"), mp(tx("a"), ar()), kParams, mp(), kMethod, tx("m"), kJSON, ver),
			codec.Message{ID: codec.Int(3), Method: "m", Params: mp()}},
		{"long heads", cat(hx("b8 03"), hx("78 07"), []byte("jsonrpc"), hx("79 0003"), []byte("2.0"),
			kMethod, hx("7a 00000001"), []byte("x"), kID, hx("1b 0000000000000005")),
			codec.Message{ID: codec.Int(5), Method: "x"}},
		{"float16 id", mp(kJSON, ver, kResult, null, kID, hx("f9 3e00")),
			codec.Message{ID: codec.Number("1.5"), Result: null}},
		{"float32 id", mp(kJSON, ver, kResult, null, kID, hx("fa 3fc00000")),
			codec.Message{ID: codec.Number("1.5"), Result: null}},
		{"integral float id", mp(kJSON, ver, kResult, null, kID, hx("fb 4008000000000000")),
			codec.Message{ID: codec.Int(3), Result: null}},
		{"subnormal half id", mp(kJSON, ver, kResult, null, kID, hx("f9 0001")),
			codec.Message{ID: codec.Number("5.960464477539063e-08"), Result: null}},
		{"negative half id", mp(kJSON, ver, kResult, null, kID, hx("f9 c400")),
			codec.Message{ID: codec.Int(-4), Result: null}},
		{"huge negative id", mp(kJSON, ver, kResult, null, kID, hx("3b ffffffffffffffff")),
			codec.Message{ID: codec.Number("-18446744073709551616"), Result: null}},
		{"unknown error members", mp(kJSON, ver, kID, in(1), kError, mp(tx("x"), in(1), tx("message"), tx("m"), tx("code"), in(2))),
			codec.Message{ID: codec.Int(1), Error: &codec.Error{Code: 2, Message: "m"}}},
		{"non-text key in unknown member", mp(kJSON, ver, kMethod, tx("m"), tx("meta"), mp(in(1), in(2))),
			codec.Message{Method: "m"}},
	}
	for _, tt := range tests {
		got := decodeOne(t, tt.data)
		if d := sameMessage(&tt.want, &got); d != "" {
			t.Errorf("%s: %s", tt.name, d)
		}
	}
}

// TestDecodeAliases checks that params, results and error data are
// sub-slices of the input, not copies, with no spare capacity.
func TestDecodeAliases(t *testing.T) {
	within := func(sub, data []byte) bool {
		if len(sub) == 0 {
			return false
		}
		p := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
		s := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
		return p >= s && p+uintptr(len(sub)) <= s+uintptr(len(data)) && cap(sub) == len(sub)
	}
	data := mp(kJSON, ver, kMethod, tx("m"), kParams, ar(in(1)), kID, in(1))
	if m := decodeOne(t, data); !within(m.Params, data) {
		t.Error("Params does not alias the input")
	}
	data = mp(kJSON, ver, kResult, null, kID, in(1))
	if m := decodeOne(t, data); !within(m.Result, data) {
		t.Error("Result does not alias the input")
	}
	data = mp(kJSON, ver, kError, mp(tx("code"), in(1), tx("message"), tx(""), tx("data"), ar()), kID, in(1))
	if m := decodeOne(t, data); m.Error == nil || !within(m.Error.Data, data) {
		t.Error("Error.Data does not alias the input")
	}
}
