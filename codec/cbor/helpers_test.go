package cbor_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	fxcbor "github.com/fxamacker/cbor/v2"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

// Hand-built CBOR, so that tests control key order, duplicates and
// malformations exactly.

// head returns a CBOR head for major type major and argument n.
func head(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n < 1<<8:
		return []byte{m | 24, byte(n)}
	case n < 1<<16:
		return []byte{m | 25, byte(n >> 8), byte(n)}
	case n < 1<<32:
		return []byte{m | 26, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return []byte{m | 27, byte(n >> 56), byte(n >> 48), byte(n >> 40), byte(n >> 32),
		byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// mp builds a map from alternating keys and values.
func mp(kv ...[]byte) []byte {
	if len(kv)%2 != 0 {
		panic("mp: odd number of items")
	}
	return cat(head(5, uint64(len(kv)/2)), cat(kv...))
}

// ar builds an array.
func ar(items ...[]byte) []byte { return cat(head(4, uint64(len(items))), cat(items...)) }

// tx builds a text string.
func tx(s string) []byte { return cat(head(3, uint64(len(s))), []byte(s)) }

// bs builds a byte string.
func bs(b string) []byte { return cat(head(2, uint64(len(b))), []byte(b)) }

// in builds an integer.
func in(n int64) []byte {
	if n >= 0 {
		return head(0, uint64(n))
	}
	return head(1, uint64(^n))
}

// hx decodes hex, ignoring spaces.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// enc marshals v with the library defaults (for scalars in tests).
func enc(v any) []byte {
	b, err := fxcbor.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	null    = []byte{0xf6}
	undef   = []byte{0xf7}
	ver     = tx("2.0")
	kJSON   = tx("jsonrpc")
	kMethod = tx("method")
	kParams = tx("params")
	kID     = tx("id")
	kResult = tx("result")
	kError  = tx("error")
)

// decodeOne decodes data, which must hold one message (not a batch).
func decodeOne(t *testing.T, data []byte) codec.Message {
	t.Helper()
	msgs, batch, err := cbor.Codec{}.Decode(nil, data)
	if err != nil {
		t.Fatalf("Decode(%x): %v", data, err)
	}
	if batch || len(msgs) != 1 {
		t.Fatalf("Decode(%x): batch=%v, %d messages, want one message", data, batch, len(msgs))
	}
	return msgs[0]
}

func encode(t testing.TB, m *codec.Message) []byte {
	t.Helper()
	b, err := cbor.Codec{}.AppendMessage(nil, m)
	if err != nil {
		t.Fatalf("AppendMessage(%+v): %v", *m, err)
	}
	return b
}

// sameMessage reports how a and b differ, or "" when they hold the same
// fields.
func sameMessage(a, b *codec.Message) string {
	var d []string
	if a.ID != b.ID {
		d = append(d, "ID "+a.ID.String()+" != "+b.ID.String())
	}
	if a.Method != b.Method {
		d = append(d, "Method "+a.Method+" != "+b.Method)
	}
	if !bytes.Equal(a.Params, b.Params) || (a.Params == nil) != (b.Params == nil) {
		d = append(d, "Params "+hex.EncodeToString(a.Params)+" != "+hex.EncodeToString(b.Params))
	}
	if !bytes.Equal(a.Result, b.Result) || (a.Result == nil) != (b.Result == nil) {
		d = append(d, "Result "+hex.EncodeToString(a.Result)+" != "+hex.EncodeToString(b.Result))
	}
	switch {
	case (a.Error == nil) != (b.Error == nil):
		d = append(d, "Error presence differs")
	case a.Error != nil:
		if a.Error.Code != b.Error.Code || a.Error.Message != b.Error.Message ||
			!bytes.Equal(a.Error.Data, b.Error.Data) || (a.Error.Data == nil) != (b.Error.Data == nil) {
			d = append(d, "Error differs")
		}
	}
	if a.Invalid != b.Invalid {
		d = append(d, "Invalid "+a.Invalid+" != "+b.Invalid)
	}
	return strings.Join(d, "; ")
}
