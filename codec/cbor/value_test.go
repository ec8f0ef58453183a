package cbor_test

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

type point struct {
	X     int    `json:"x"`
	Y     int    `json:"y,omitempty"`
	Label string `json:"label"`
	Skip  string `json:"-"`
}

type shape struct {
	Name   string            `json:"name"`
	Points []point           `json:"points"`
	Attrs  map[string]string `json:"attrs,omitempty"`
	When   time.Time         `json:"when"`
	Ptr    *int              `json:"ptr"`
	Native string            `cbor:"native" json:"ignored"`
}

func TestMarshalUnmarshalStruct(t *testing.T) {
	c := cbor.Codec{}
	seven := 7
	in := shape{
		Name:   "tri",
		Points: []point{{X: 1, Y: 2, Label: "a", Skip: "gone"}, {X: -3, Label: "b"}},
		Attrs:  map[string]string{"color": "red"},
		When:   time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC),
		Ptr:    &seven,
		Native: "n",
	}
	data, err := c.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out shape
	if err := c.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	in.Points[0].Skip = ""
	if !reflect.DeepEqual(in, out) || !out.When.Equal(in.When) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}

	// json tags name the keys; omitempty and "-" are honoured; time.Time
	// is RFC 3339 text; a cbor tag wins over a json tag.
	var generic map[string]any
	if err := c.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"name": "tri",
		"points": []any{
			map[string]any{"x": int64(1), "y": int64(2), "label": "a"},
			map[string]any{"x": int64(-3), "label": "b"},
		},
		"attrs":  map[string]any{"color": "red"},
		"when":   "2024-05-06T07:08:09.123456789Z",
		"ptr":    int64(7),
		"native": "n",
	}
	if !reflect.DeepEqual(generic, want) {
		t.Fatalf("as map:\n got %#v\nwant %#v", generic, want)
	}
}

func TestUnmarshalParamsFromMessage(t *testing.T) {
	// Params as a handler sees them: decoded from a message, then unmarshaled.
	c := cbor.Codec{}
	params, err := c.Marshal([]any{1, "two", 3.5, true, nil})
	if err != nil {
		t.Fatal(err)
	}
	data := encode(t, &codec.Message{ID: codec.Int(1), Method: "m", Params: params})
	m := decodeOne(t, data)
	var positional []any
	if err := c.Unmarshal(m.Params, &positional); err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), "two", 3.5, true, nil}
	if !reflect.DeepEqual(positional, want) {
		t.Fatalf("got %#v, want %#v", positional, want)
	}
	var tuple struct {
		_ struct{} `cbor:",toarray"`
		A int
		B string
	}
	if err := c.Unmarshal(ar(in(4), tx("x")), &tuple); err != nil || tuple.A != 4 || tuple.B != "x" {
		t.Fatalf("toarray: %+v, %v", tuple, err)
	}
	var p point
	if err := c.Unmarshal(mp(tx("x"), in(5), tx("label"), tx("l"), tx("unknown"), in(1)), &p); err != nil || p.X != 5 || p.Label != "l" {
		t.Fatalf("struct: %+v, %v", p, err)
	}
	var ints []int
	if err := c.Unmarshal(ar(in(1), in(-2)), &ints); err != nil || !reflect.DeepEqual(ints, []int{1, -2}) {
		t.Fatalf("[]int: %v, %v", ints, err)
	}
	var generic []any
	if err := c.Unmarshal(ar(hx("f9 3e00"), hx("fa 3fc00000"), bs("b"), undef), &generic); err != nil {
		t.Fatal(err)
	}
	if want := []any{1.5, 1.5, []byte("b"), nil}; !reflect.DeepEqual(generic, want) {
		t.Fatalf("floats, bytes, undefined as any = %#v, want %#v", generic, want)
	}
	var big1 any
	if err := c.Unmarshal(hx("1b ffffffffffffffff"), &big1); err != nil {
		t.Fatal(err)
	}
	if b, ok := big1.(*big.Int); !ok || b.String() != "18446744073709551615" {
		t.Fatalf("2^64-1 as any = %#v", big1)
	}
}

func TestUnmarshalRejects(t *testing.T) {
	c := cbor.Codec{}
	tests := []struct {
		name string
		data []byte
		v    any
	}{
		{"dup key into map", mp(tx("a"), in(1), tx("a"), in(2)), new(map[string]any)},
		{"dup key into struct", mp(tx("x"), in(1), tx("x"), in(2)), new(point)},
		{"dup key into any", mp(tx("a"), in(1), tx("a"), in(2)), new(any)},
		{"nested dup key", ar(mp(tx("a"), in(1), tx("a"), in(1))), new(any)},
		{"bad utf8", tx("\xff"), new(string)},
		{"bad utf8 key", mp(tx("\xff"), in(1)), new(map[string]any)},
		{"int key into any", mp(in(1), in(1)), new(any)},
		{"bytes key into any", mp(bs("k"), in(1)), new(any)},
		{"tag", hx("c1 1a 514b67b0"), new(any)},
		{"bignum", hx("c2 49 010000000000000000"), new(any)},
		{"indefinite", hx("9f 01 ff"), new([]int)},
		{"trailing", cat(in(1), in(2)), new(int)},
		{"empty", nil, new(any)},
		{"deep", cat(bytes.Repeat([]byte{0x81}, codec.MaxDepth+1), in(0)), new(any)},
		{"deep into []any", cat(bytes.Repeat([]byte{0x81}, codec.MaxDepth+1), in(0)), new([]any)},
		{"many", cat(hx("9a 000186a1"), bytes.Repeat([]byte{0}, codec.MaxItems+1)), new([]int)},
		{"type mismatch", tx("x"), new(int)},
		{"4 GiB", hx("5a ffffffff 00"), new([]byte)},
	}
	for _, tt := range tests {
		if err := c.Unmarshal(tt.data, tt.v); err == nil {
			t.Errorf("%s: Unmarshal(%x) succeeded: %v", tt.name, tt.data, reflect.ValueOf(tt.v).Elem())
		}
	}
	if err := c.Unmarshal(in(1), nil); err == nil {
		t.Error("Unmarshal into nil succeeded")
	}
}

// Unmarshal refuses a value beyond the limits with codec's errors, small
// or large, whatever it is decoded into; and takes one at the limits.
func TestUnmarshalLimits(t *testing.T) {
	deep := func(n int, inner []byte) []byte { return cat(bytes.Repeat([]byte{0x81}, n), inner) }
	many := func(n int) []byte { return cat(head(4, uint64(n)), bytes.Repeat([]byte{1}, n)) }
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"MaxDepth levels", deep(codec.MaxDepth-1, ar()), nil},
		{"MaxDepth+1 levels", deep(codec.MaxDepth, ar()), codec.ErrDepth},
		{"MaxDepth+1 levels of maps", deep(codec.MaxDepth, mp()), codec.ErrDepth},
		{"MaxDepth+1 levels, padded past MaxItems bytes", deep(codec.MaxDepth, ar(bs(strings.Repeat("x", codec.MaxItems)))), codec.ErrDepth},
		{"100,000 levels", deep(100_000, in(0)), codec.ErrDepth},
		{"MaxItems elements", many(codec.MaxItems), nil},
		{"MaxItems+1 elements", many(codec.MaxItems + 1), codec.ErrItems},
		{"MaxItems+1 over two levels", ar(many(codec.MaxItems)), codec.ErrItems},
		{"MaxItems+1 pairs", cat(head(5, codec.MaxItems+1), bytes.Repeat(cat(tx(""), in(0)), codec.MaxItems+1)), codec.ErrItems},
	} {
		for _, v := range []any{new(any), new([]any), new([]int), new(cborRaw)} {
			err := cbor.Codec{}.Unmarshal(tt.data, v)
			if tt.want == nil {
				if errors.Is(err, codec.ErrLimit) {
					t.Errorf("%s into %T: %v", tt.name, v, err)
				}
				continue
			}
			if err != tt.want {
				t.Errorf("%s into %T: %v, want %v", tt.name, v, err, tt.want)
			}
			if !reflect.ValueOf(v).Elem().IsZero() {
				t.Errorf("%s into %T: decoded before refusing", tt.name, v)
			}
		}
	}
}

// cborRaw takes any item as it is, as rpc.Raw's users would.
type cborRaw []byte

func (r *cborRaw) UnmarshalCBOR(b []byte) error { *r = append((*r)[:0], b...); return nil }

func TestMarshalRejectsTags(t *testing.T) {
	huge, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	if b, err := (cbor.Codec{}).Marshal(huge); err == nil {
		t.Errorf("Marshal(huge big.Int) = %x, want an error (it needs a tag)", b)
	}
	if b, err := (cbor.Codec{}).Marshal(big.NewInt(-5)); err != nil || !bytes.Equal(b, in(-5)) {
		t.Errorf("Marshal(big.Int -5) = %x, %v", b, err)
	}
}

func TestAppendValue(t *testing.T) {
	c := cbor.Codec{}
	values := []any{nil, 1, -1, "s", []int{1, 2}, map[string]int{"a": 1}, point{X: 1, Label: "x"}, &point{Y: 2}, 1.5, []byte{1}}
	for _, v := range values {
		want, err := c.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.AppendValue([]byte("pre"), v)
		if err != nil || !bytes.Equal(got, append([]byte("pre"), want...)) {
			t.Errorf("AppendValue(%v) = %x, %v; want pre+%x", v, got, err, want)
		}
	}
	got, err := c.AppendValue([]byte("pre"), make(chan int))
	if err == nil || string(got) != "pre" {
		t.Errorf("AppendValue(chan) = %q, %v; want an error and dst unchanged", got, err)
	}
	// A value larger than the pooled buffer limit.
	large := bytes.Repeat([]byte{'x'}, 100<<10)
	got, err = c.AppendValue(nil, large)
	if err != nil || len(got) != len(large)+5 {
		t.Errorf("AppendValue(100 KiB) = %d bytes, %v", len(got), err)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := cbor.Codec{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			var msgs []codec.Message
			for i := range 200 {
				var err error
				params, err := c.AppendValue(nil, point{X: g, Y: i, Label: "p"})
				if err != nil {
					t.Error(err)
					return
				}
				buf, err = c.AppendMessage(buf[:0], &codec.Message{ID: codec.Int(int64(i)), Method: "m", Params: params})
				if err != nil {
					t.Error(err)
					return
				}
				msgs, _, err = c.Decode(msgs[:0], buf)
				if err != nil || len(msgs) != 1 {
					t.Error(err)
					return
				}
				var p point
				if err := c.Unmarshal(msgs[0].Params, &p); err != nil || p.X != g || p.Y != i {
					t.Errorf("got %+v, %v", p, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
