package cbor_test

import (
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

// fuzzSeeds returns encoded examples of every message kind and some
// malformed inputs.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	c := cbor.Codec{}
	msgs := []codec.Message{
		{ID: codec.Int(1), Method: "sum", Params: ar(in(1), in(2))},
		{ID: codec.String("abc"), Method: "get", Params: mp(tx("k"), tx("v"))},
		{ID: codec.Null(), Method: "m"},
		{ID: codec.Number("1.5"), Method: "m"},
		{ID: codec.Number("18446744073709551615"), Method: "m"},
		{ID: codec.Number("-18446744073709551616"), Method: "m"},
		{Method: "notify", Params: ar()},
		{ID: codec.Int(-7), Result: mp(tx("a"), ar(in(1), null))},
		{ID: codec.Int(2), Result: null},
		{ID: codec.String("x"), Error: &codec.Error{Code: -32601, Message: "nope"}},
		{Error: &codec.Error{Code: -32700, Message: "parse", Data: tx("d")}},
	}
	var encoded [][]byte
	for i := range msgs {
		b, err := c.AppendMessage(nil, &msgs[i])
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, b)
		encoded = append(encoded, b)
	}
	seeds = append(seeds,
		c.AppendBatch(nil, encoded),
		c.AppendBatch(nil, nil),
		ar(in(1), encoded[0]),
		mp(kJSON, ver, kMethod, tx("m"), kID, in(1), kID, in(2)),
		mp(kJSON, tx("1.0"), kMethod, in(3), kParams, null, kID, mp()),
		mp(kJSON, ver, kResult, null, kError, mp(tx("code"), in(1)), kID, hx("f9 3e00")),
		mp(in(1), in(2)),
		hx("7a ffffffff"),
		hx("9f ff"),
		hx("c1 00"),
		hx("ff"),
		[]byte{},
		append(append([]byte{}, encoded[0]...), 0),
	)
	return seeds
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	c := cbor.Codec{}
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, batch, err := c.Decode(nil, data)
		if err != nil {
			if len(msgs) != 0 || batch {
				t.Fatalf("error %v with %d messages, batch=%v", err, len(msgs), batch)
			}
			return
		}
		if !batch && len(msgs) != 1 {
			t.Fatalf("not a batch but %d messages", len(msgs))
		}
		var valid []codec.Message
		var encoded [][]byte
		for i := range msgs {
			m := &msgs[i]
			if m.Invalid != "" {
				continue
			}
			b, err := c.AppendMessage(nil, m)
			if err != nil {
				t.Fatalf("AppendMessage(%+v): %v", *m, err)
			}
			again, batch, err := c.Decode(nil, b)
			if err != nil || batch || len(again) != 1 {
				t.Fatalf("re-decode of %x: %d messages, batch=%v, err=%v", b, len(again), batch, err)
			}
			if d := sameMessage(m, &again[0]); d != "" {
				t.Fatalf("re-decode of %x from %x: %s", b, data, d)
			}
			// Params, results and data that Decode accepted are well-formed
			// under the limits; Unmarshal into any must not panic.
			var v any
			switch {
			case m.Params != nil:
				_ = c.Unmarshal(m.Params, &v)
			case m.Result != nil:
				_ = c.Unmarshal(m.Result, &v)
			}
			valid = append(valid, *m)
			encoded = append(encoded, b)
		}
		// Only a batch can be re-encoded as one: wrapping a single message
		// in an array adds a level of nesting, which may pass the limit.
		if batch && len(encoded) > 0 {
			b := c.AppendBatch(nil, encoded)
			again, batch, err := c.Decode(nil, b)
			if err != nil || !batch || len(again) != len(valid) {
				t.Fatalf("re-decode of batch %x: %d messages, batch=%v, err=%v", b, len(again), batch, err)
			}
			for i := range valid {
				if d := sameMessage(&valid[i], &again[i]); d != "" {
					t.Fatalf("batch item %d: %s", i, d)
				}
			}
		}
	})
}
