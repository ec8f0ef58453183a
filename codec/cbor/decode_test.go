package cbor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

func TestDecodeInvalid(t *testing.T) {
	req := func(kv ...[]byte) []byte { return mp(append([][]byte{kJSON, ver}, kv...)...) }
	errObj := mp(tx("code"), in(1), tx("message"), tx("m"))
	tests := []struct {
		name   string
		data   []byte
		reason string   // substring of Invalid
		id     codec.ID // expected ID
	}{
		{"text", tx("hello"), "must be a map", codec.ID{}},
		{"null", null, "must be a map", codec.ID{}},
		{"integer", in(1), "must be a map", codec.ID{}},
		{"byte string", bs("x"), "must be a map", codec.ID{}},

		{"missing jsonrpc", mp(kMethod, tx("m"), kID, in(1)), "missing jsonrpc version", codec.Int(1)},
		{"jsonrpc 1.0", mp(kJSON, tx("1.0"), kMethod, tx("m"), kID, in(2)), "jsonrpc version", codec.Int(2)},
		{"jsonrpc number", mp(kJSON, enc(2.0), kMethod, tx("m")), "jsonrpc version", codec.ID{}},
		{"jsonrpc bytes", mp(kJSON, bs("2.0"), kMethod, tx("m")), "jsonrpc version", codec.ID{}},
		{"jsonrpc null", mp(kJSON, null, kMethod, tx("m")), "jsonrpc version", codec.ID{}},

		{"empty method", req(kMethod, tx(""), kID, tx("x")), "method", codec.String("x")},
		{"method number", req(kMethod, in(1), kID, in(1)), "method", codec.Int(1)},
		{"method bytes", req(kMethod, bs("m"), kID, in(1)), "method", codec.Int(1)},
		{"method null", req(kMethod, null, kID, in(1)), "method", codec.Int(1)},
		{"method bad utf8", req(kMethod, tx("a\xffb"), kID, in(1)), "UTF-8", codec.Int(1)},

		{"params null", req(kMethod, tx("m"), kParams, null, kID, in(1)), "params must be an array or a map", codec.Int(1)},
		{"params text", req(kMethod, tx("m"), kParams, tx("x"), kID, in(1)), "params must be an array or a map", codec.Int(1)},
		{"params int", req(kMethod, tx("m"), kParams, in(1)), "params must be an array or a map", codec.ID{}},

		{"id map", req(kMethod, tx("m"), kID, mp()), "id must be", codec.ID{}},
		{"id array", req(kMethod, tx("m"), kID, ar(in(1))), "id must be", codec.ID{}},
		{"id bool", req(kMethod, tx("m"), kID, []byte{0xf5}), "id must be", codec.ID{}},
		{"id undefined", req(kMethod, tx("m"), kID, undef), "id must be", codec.ID{}},
		{"id bytes", req(kMethod, tx("m"), kID, bs("1")), "id must be", codec.ID{}},
		{"id simple", req(kMethod, tx("m"), kID, hx("f8 20")), "id must be", codec.ID{}},
		{"id NaN", req(kMethod, tx("m"), kID, hx("f9 7e00")), "id must be", codec.ID{}},
		{"id +Inf", req(kMethod, tx("m"), kID, hx("fa 7f800000")), "id must be", codec.ID{}},
		{"id -Inf", req(kMethod, tx("m"), kID, hx("fb fff0000000000000")), "id must be", codec.ID{}},
		{"id bad utf8", req(kMethod, tx("m"), kID, tx("\xc3")), "id must be valid UTF-8", codec.ID{}},

		{"nothing", req(), "missing method", codec.ID{}},
		{"only id", req(kID, in(4)), "missing method", codec.Int(4)},
		{"result and error", req(kResult, null, kError, errObj, kID, in(1)), "exactly one of result and error", codec.Int(1)},
		{"response without id", req(kResult, in(1)), "must have an id", codec.ID{}},
		{"error response without id", req(kError, errObj), "must have an id", codec.ID{}},
		{"request with result", req(kMethod, tx("m"), kResult, null, kID, in(1)), "request must not", codec.Int(1)},
		{"request with error", req(kMethod, tx("m"), kError, errObj, kID, in(1)), "request must not", codec.Int(1)},

		{"error not map", req(kError, tx("x"), kID, in(1)), "error must be", codec.Int(1)},
		{"error null", req(kError, null, kID, in(1)), "error must be", codec.Int(1)},
		{"error array", req(kError, ar(in(1), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error no code", req(kError, mp(tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error no message", req(kError, mp(tx("code"), in(1)), kID, in(1)), "error must be", codec.Int(1)},
		{"error code text", req(kError, mp(tx("code"), tx("1"), tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error code float", req(kError, mp(tx("code"), enc(1.0), tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error code too big", req(kError, mp(tx("code"), hx("1b 8000000000000000"), tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error code too small", req(kError, mp(tx("code"), hx("3b 8000000000000000"), tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},
		{"error message int", req(kError, mp(tx("code"), in(1), tx("message"), in(1)), kID, in(1)), "error must be", codec.Int(1)},
		{"error message bad utf8", req(kError, mp(tx("code"), in(1), tx("message"), tx("\xff")), kID, in(1)), "error must be", codec.Int(1)},
		{"error dup code", req(kError, mp(tx("code"), in(1), tx("message"), tx("m"), tx("code"), in(2)), kID, in(1)), "error must be", codec.Int(1)},
		{"error dup data", req(kError, mp(tx("code"), in(1), tx("message"), tx("m"), tx("data"), in(1), tx("data"), in(1)), kID, in(1)), "error must be", codec.Int(1)},
		{"error int key", req(kError, mp(in(1), in(1), tx("code"), in(1), tx("message"), tx("m")), kID, in(1)), "error must be", codec.Int(1)},

		{"dup jsonrpc", req(kJSON, ver, kMethod, tx("m"), kID, in(1)), "duplicate jsonrpc", codec.Int(1)},
		{"dup method", req(kMethod, tx("m"), kMethod, tx("m"), kID, in(1)), "duplicate method", codec.Int(1)},
		{"dup params", req(kMethod, tx("m"), kParams, ar(), kParams, ar(), kID, in(1)), "duplicate params", codec.Int(1)},
		{"dup id", req(kMethod, tx("m"), kID, in(1), kID, in(2)), "duplicate id", codec.Int(1)},
		{"dup result", req(kResult, null, kResult, null, kID, in(1)), "duplicate result", codec.Int(1)},
		{"dup error", req(kError, errObj, kError, errObj, kID, in(1)), "duplicate error", codec.Int(1)},
		{"int key", req(in(1), in(2), kMethod, tx("m"), kID, in(1)), "member names must be text", codec.Int(1)},
		{"byte string key", req(bs("method"), tx("m"), kID, in(1)), "member names must be text", codec.Int(1)},
		{"array key", req(ar(in(1)), tx("m"), kMethod, tx("m"), kID, in(1)), "member names must be text", codec.Int(1)},
		{"map key", req(mp(tx("a"), in(1)), tx("m"), kMethod, tx("m"), kID, in(1)), "member names must be text", codec.Int(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := decodeOne(t, tt.data)
			if m.Invalid == "" {
				t.Fatalf("Decode(%x) = %+v, want Invalid", tt.data, m)
			}
			if !strings.Contains(m.Invalid, tt.reason) {
				t.Errorf("Invalid = %q, want it to mention %q", m.Invalid, tt.reason)
			}
			if m.ID != tt.id {
				t.Errorf("ID = %v, want %v", m.ID, tt.id)
			}
			if m.Method != "" || m.Params != nil || m.Result != nil || m.Error != nil {
				t.Errorf("invalid message carries fields: %+v", m)
			}
		})
	}
}

func TestDecodeBatchItems(t *testing.T) {
	valid := mp(kJSON, ver, kMethod, tx("m"), kID, in(1))
	data := ar(in(1), valid, ar(valid), mp(kMethod, tx("m"), kID, in(2)), null, valid)
	msgs, batch, err := cbor.Codec{}.Decode(nil, data)
	if err != nil || !batch || len(msgs) != 6 {
		t.Fatalf("Decode: %d messages, batch=%v, err=%v", len(msgs), batch, err)
	}
	wantInvalid := []bool{true, false, true, true, true, false}
	for i, m := range msgs {
		if (m.Invalid != "") != wantInvalid[i] {
			t.Errorf("message %d: Invalid = %q", i, m.Invalid)
		}
	}
	if msgs[3].ID != codec.Int(2) {
		t.Errorf("message 3: ID = %v, want 2", msgs[3].ID)
	}
	if msgs[5].Method != "m" || msgs[5].ID != codec.Int(1) {
		t.Errorf("message 5 = %+v", msgs[5])
	}
}

func TestDecodeParseErrors(t *testing.T) {
	valid := mp(kJSON, ver, kMethod, tx("m"), kID, in(1))
	deep := func(n int) []byte { // n nested arrays in params
		return mp(kJSON, ver, kMethod, tx("m"), kParams, cat(bytes.Repeat([]byte{0x81}, n), in(0)))
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"truncated head", hx("19 01")},
		{"truncated map", valid[:len(valid)-1]},
		{"truncated batch", ar(valid, valid)[:len(valid)+3]},
		{"trailing bytes", cat(valid, []byte{0x00})},
		{"two messages", cat(valid, valid)},
		{"4 GiB text", hx("7a ffffffff 61")},
		{"2^64 text", hx("7b ffffffffffffffff 61")},
		{"4 GiB key", cat(hx("a1 7a ffffffff"), []byte("jsonrpc"))},
		{"4 GiB params", mp(kJSON, ver, kMethod, tx("m"), kParams, hx("9a ffffffff"))},
		{"huge batch header", cat(hx("9b ffffffffffffffff"), valid)},
		{"truncated deep nesting", deep(100_000)[:100_000]},
		{"array claiming more than its bytes", mp(kJSON, ver, kMethod, tx("m"), kParams, cat(hx("9a 00010001"), bytes.Repeat([]byte{0}, 65536)))},
		{"map claiming more than its bytes", mp(kJSON, ver, kMethod, tx("m"), kParams, cat(hx("ba 00010001"), bytes.Repeat([]byte{0}, 2*65536+1)))},
		{"batch claiming more than its bytes", cat(hx("9a 00010001"), bytes.Repeat(valid, 10))},
		{"indefinite array", cat(hx("9f"), valid, hx("ff"))},
		{"indefinite map", hx("bf 67 6a736f6e727063 63 322e30 ff")},
		{"indefinite text", mp(kJSON, ver, kMethod, hx("7f 61 6d ff"))},
		{"indefinite params", mp(kJSON, ver, kMethod, tx("m"), kParams, hx("9f 01 ff"))},
		{"tag", cat(hx("c1"), valid)},
		{"tag in params", mp(kJSON, ver, kMethod, tx("m"), kParams, hx("81 c2 41 01"))},
		{"self-describe tag", cat(hx("d9 d9f7"), valid)},
		{"lone break", hx("ff")},
		{"reserved ai", hx("1c")},
		{"reserved ai in map", mp(kJSON, ver, kMethod, hx("7c"))},
		{"bad simple value", mp(kJSON, ver, kMethod, tx("m"), kID, hx("f8 10"))},
		{"odd map", hx("a1 62 6964")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]codec.Message, 2, 4)
			dst[0].Method = "keep"
			msgs, batch, err := cbor.Codec{}.Decode(dst, tt.data)
			if err == nil {
				t.Fatalf("Decode(%.40x) = %d messages, no error", tt.data, len(msgs))
			}
			if !errors.Is(err, codec.ErrParse) {
				t.Errorf("error %v does not wrap codec.ErrParse", err)
			}
			if batch || len(msgs) != 2 || msgs[0].Method != "keep" {
				t.Errorf("on error: batch=%v, %d messages; want dst back", batch, len(msgs))
			}
		})
	}

}

// Decode takes values of any size and depth, anywhere in a message: the
// limits on values are Unmarshal's, applied when a value is decoded.
func TestDecodeLargeValues(t *testing.T) {
	deep := cat(bytes.Repeat([]byte{0x81}, 100_000), in(0))
	many := cat(hx("9a 00030d40"), bytes.Repeat([]byte{0}, 200_000))
	for _, tt := range []struct {
		name   string
		params []byte
		want   error
	}{
		{"100,000 levels", deep, codec.ErrDepth},
		{"200,000 elements", many, codec.ErrItems},
		{"a map of 200,000 pairs", cat(hx("ba 00030d40"), bytes.Repeat([]byte{0x60, 0}, 200_000)), codec.ErrItems},
	} {
		data := mp(kJSON, ver, kMethod, tx("m"), kParams, tt.params, tx("x"), tt.params, kID, in(7))
		msgs, _, err := cbor.Codec{}.Decode(nil, data)
		if err != nil || len(msgs) != 1 || msgs[0].Invalid != "" || msgs[0].ID != codec.Int(7) || !bytes.Equal(msgs[0].Params, tt.params) {
			t.Fatalf("%s: %v, %+.80v", tt.name, err, msgs)
		}
		if err := (cbor.Codec{}).Unmarshal(msgs[0].Params, new(any)); err != tt.want {
			t.Errorf("%s: Unmarshal: %v, want %v", tt.name, err, tt.want)
		}
	}
	// A batch nested 40 levels deep is a batch of one invalid message.
	valid := mp(kJSON, ver, kMethod, tx("m"), kID, in(1))
	msgs, batch, err := cbor.Codec{}.Decode(nil, cat(bytes.Repeat([]byte{0x81}, 40), valid))
	if err != nil || !batch || len(msgs) != 1 || msgs[0].Invalid == "" {
		t.Fatalf("deep batch: %v %v %+v", batch, err, msgs)
	}
}

// A batch of up to codec.MaxBatch messages is decoded; one more, and the
// whole batch is refused with codec.ErrBatch, dst as it was.
func TestDecodeBatchLimit(t *testing.T) {
	note := mp(kJSON, ver, kMethod, tx("n"))
	batch := func(n int) []byte { return cat(head(4, uint64(n)), bytes.Repeat(note, n)) }
	msgs, isBatch, err := cbor.Codec{}.Decode(nil, batch(codec.MaxBatch))
	if err != nil || !isBatch || len(msgs) != codec.MaxBatch {
		t.Fatalf("batch of MaxBatch: %d messages, %v, %v", len(msgs), isBatch, err)
	}
	dst := []codec.Message{{Method: "kept"}}
	msgs, _, err = cbor.Codec{}.Decode(dst, batch(codec.MaxBatch+1))
	if err != codec.ErrBatch || !errors.Is(err, codec.ErrLimit) || errors.Is(err, codec.ErrParse) {
		t.Fatalf("batch of MaxBatch+1: err = %v, want codec.ErrBatch", err)
	}
	if len(msgs) != 1 || msgs[0].Method != "kept" {
		t.Fatalf("batch of MaxBatch+1: dst = %d messages", len(msgs))
	}
	// Not well-formed is a parse error, however long the batch.
	long := batch(codec.MaxBatch + 1)
	if _, _, err := (cbor.Codec{}).Decode(nil, long[:len(long)-1]); !errors.Is(err, codec.ErrParse) {
		t.Fatalf("truncated long batch: %v", err)
	}
}
