package json

import (
	"bytes"
	stdjson "encoding/json"
	"math"
	"reflect"
	"testing"
)

// stdEncode is encoding/json's encoding of v as AppendValue promises it:
// HTML escaping off, no newline.
func stdEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := stdjson.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// checkAppend encodes v with AppendValue, after a prefix, and fails unless
// it wrote what encoding/json writes, or failed as it does; and unless
// Marshal writes the same bytes as AppendValue.
func checkAppend(t *testing.T, v any) {
	t.Helper()
	got, err := Codec{}.AppendValue([]byte("prefix"), v)
	want, wantErr := stdEncode(v)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("%#v: error %v, encoding/json says %v", v, err, wantErr)
	}
	if err != nil {
		return
	}
	marshaled, mErr := Codec{}.Marshal(v)
	if mErr != nil || !bytes.Equal(marshaled, got[len("prefix"):]) {
		t.Fatalf("%#v: Marshal wrote %s (%v), AppendValue %s", v, marshaled, mErr, got[len("prefix"):])
	}
	if jsonV2 {
		got = rawReplacement(got)
	}
	if !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Fatalf("%#v:\n got %s\nwant prefix%s", v, got, want)
	}
}

// rawReplacement rewrites each escape \ufffd in JSON text b as the
// character U+FFFD itself, as encoding/json built on v2 writes it: the same
// string to a JSON reader. The fast path writes that escape for invalid
// UTF-8 only (a real U+FFFD goes out as it is), and the slow path is
// encoding/json itself.
func rawReplacement(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] != '\\' || i+1 == len(b):
			out = append(out, b[i])
		case b[i+1] == 'u' && bytes.HasPrefix(b[i+2:], []byte("fffd")):
			out = append(out, "\uFFFD"...)
			i += 5
		default: // another escape: keep both bytes
			out = append(out, b[i], b[i+1])
			i++
		}
	}
	return out
}

// Marshal and AppendValue write the same bytes: HTML escaping is off in
// both, so <, > and & go out as they are.
func TestMarshalWritesWhatAppendValueWrites(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"<a href=\"x\">&</a>", `"<a href=\"x\">&</a>"`},
		{map[string]any{"<k>": "&"}, `{"<k>":"&"}`},
		{embeds{point: point{1, 2}, Z: 3}, `{"X":1,"Y":2,"Z":3}`}, // not the fast path
		{stdjson.RawMessage(`{"h":"<&>"}`), `{"h":"<&>"}`},
		{"\u2028\u2029", `"\u2028\u2029"`}, // escaped by both, as JavaScript needs
	} {
		m, err := Codec{}.Marshal(c.v)
		if err != nil || string(m) != c.want {
			t.Errorf("Marshal(%#v) = %s, %v; want %s", c.v, m, err, c.want)
		}
		checkAppend(t, c.v)
	}
	if b, err := (Codec{}).Marshal(make(chan int)); err == nil || b != nil {
		t.Errorf("Marshal(chan) = %s, %v; want encoding/json's error", b, err)
	}
}

type omitting struct {
	A int            `json:"a,omitempty"`
	B string         `json:",omitempty"`
	C []int          `json:"c,omitempty"`
	D map[string]int `json:"d,omitempty"`
	E *int           `json:"e,omitempty"`
	F any            `json:"f,omitempty"`
	G [0]int         `json:"g,omitempty"`
	H point          `json:"h,omitempty"`
	I float64        `json:"i,omitempty"`
	J bool           `json:"j,omitempty"`
}

type loop struct {
	Next *loop
	N    int
}

func TestAppendValueAgreesWithEncodingJSON(t *testing.T) {
	n := 7
	var self any
	self = &self
	cyclic := &loop{N: 1}
	cyclic.Next = cyclic
	deep := &loop{}
	for range 150 {
		deep = &loop{Next: deep}
	}
	for _, v := range []any{
		nil, true, 0, -12, uint8(200), uint64(math.MaxUint64), 1.5, float32(0.1), 1e21, 1e-7, 123456789.0, math.Copysign(0, -1),
		float32(1e21), math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1),
		"", "plain", "q\"\\/\b\f\n\r\t\x01\x1f<>&\u2028\u2029é😀\xff\xfe", name("named"),
		[]string{"a", "b"}, []string(nil), []int{}, [3]int{1, 2, 3}, [2]byte{1, 2}, []byte("base64"),
		map[string]any{"b": 1, "a": []any{nil, "x", 2.5, map[string]any{}}, "\u00e9": true, "A": nil},
		map[name]int{"z": 1, "y": 2}, map[string]int(nil), map[int]string{1: "x"},
		shape{Name: "sq", Tags: []string{"t"}, Corner: &point{1, 2}, Attrs: map[string]any{"k": 1}, Pair: [2]int{3, 4},
			Children: []*shape{{Name: "c"}, nil}, Weights: map[name]float64{"w": 0.25}, Extra: point{5, 6}},
		&shape{}, omitting{}, omitting{A: 1, B: "b", C: []int{1}, D: map[string]int{"x": 1}, E: &n, F: 0, H: point{}, I: 0.5, J: true},
		&n, (*int)(nil), []any{1, "two", nil, []int{3}, &n, point{}, stdjson.Number("12"), []byte("x")},
		embeds{point: point{1, 2}, Z: 3}, withTime{}, custom(3), quoted{N: 1}, stdjson.RawMessage(`{"raw":1}`),
		cyclic, deep, make(chan int),
	} {
		checkAppend(t, v)
	}
	if !jsonV2 { // see jsonv2_test.go
		checkAppend(t, &self)
	}
}

func TestFastAppendTakesCommonTypes(t *testing.T) {
	for _, v := range []any{"s", 1, 1.5, true, []string{"a"}, map[string]any{"a": 1}, shape{}, &shape{}, [2]int{}, omitting{}} {
		if _, ok := fastAppend(nil, v); !ok {
			t.Errorf("%T: not encoded by the fast path", v)
		}
	}
	for _, v := range []any{[]byte("x"), stdjson.Number("1"), embeds{}, withTime{}, quoted{}, math.NaN(), map[int]int{}} {
		if _, ok := fastAppend(nil, v); ok {
			t.Errorf("%T: encoded by the fast path, which does not know it", v)
		}
	}
}

// FuzzAppendValue decodes each input into the unmarshal targets with
// encoding/json, and checks that AppendValue encodes what it got as
// encoding/json does.
func FuzzAppendValue(f *testing.F) {
	for _, c := range unmarshalCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range unmarshalTargets {
			v := target()
			if stdjson.Unmarshal(data, v) != nil {
				continue
			}
			checkAppend(t, v)
			checkAppend(t, reflect.ValueOf(v).Elem().Interface())
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	v := shape{Name: "sq", Count: 3, Ratio: 0.5, Tags: []string{"a", "b"}, Corner: &point{1, 2}}
	b.Run("parley", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (Codec{}).Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := stdjson.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendValue(b *testing.B) {
	for _, c := range []struct {
		name string
		v    any
	}{
		{"strings", []string{"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp"}},
		{"struct", shape{Name: "sq", Count: 3, Ratio: 0.5, Tags: []string{"a", "b"}, Corner: &point{1, 2}}},
		{"map", map[string]any{"a": []any{1.0, 2.5, "x"}, "b": map[string]any{"c": true, "d": nil}}},
	} {
		b.Run(c.name+"/parley", func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = (Codec{}).AppendValue(buf[:0], c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			e := encoders.Get().(*encoder)
			for b.Loop() {
				e.buf.Reset()
				if err := e.enc.Encode(c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
