package json

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
)

// Types the fast path decodes.
type (
	point struct {
		X, Y int
	}
	name  string
	shape struct {
		Name     name              `json:"name"`
		Kind     string            `json:"kind,omitempty"`
		Count    int8              `json:"count"`
		Size     uint16            `json:"size"`
		Ratio    float32           `json:"ratio"`
		Exact    float64           `json:"exact"`
		On       bool              `json:"on"`
		Tags     []string          `json:"tags"`
		Points   []point           `json:"points"`
		Corner   *point            `json:"corner"`
		Attrs    map[string]any    `json:"attrs"`
		Weights  map[name]float64  `json:"weights"`
		Extra    any               `json:"extra"`
		Pair     [2]int            `json:"pair"`
		Children []*shape          `json:"children"`
		ByName   map[string]*point `json:"by_name"`
		Dash     int               `json:"-"`
		//lint:ignore SA5008 a member named "-" is one of the cases
		Minus  int `json:"-,"`
		hidden int // never decoded into
	}
)

// Types it leaves to encoding/json.
type (
	embeds struct {
		point
		Z int
	}
	quoted struct {
		N int `json:"n,string"`
	}
	withTime struct {
		At time.Time
	}
	twice struct {
		A int
		B int `json:"A"`
	}
	oddTag struct {
		A int `json:"a b"`
	}
	withNumber struct {
		N stdjson.Number
	}
	custom int
	// picky's UnmarshalJSON fails on anything but a string.
	picky string
	// text has only an UnmarshalText method.
	text string
	// customPtr is a named pointer, which hides custom's method from
	// encoding/json.
	customPtr *custom
	// withCustom holds values decoded by their UnmarshalJSON.
	withCustom struct {
		C   custom             `json:"c"`
		P   *custom            `json:"p"`
		R   stdjson.RawMessage `json:"r"`
		K   picky              `json:"k"`
		All []custom           `json:"all"`
		M   map[string]picky   `json:"m"`
		N   int                `json:"n"`
	}
)

func (c *custom) UnmarshalJSON(b []byte) error { *c = custom(len(b)); return nil }

func (p *picky) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return errors.New("picky: not a string")
	}
	*p = picky(b)
	return nil
}

func (t *text) UnmarshalText(b []byte) error { *t = text(b); return nil }

// keeps is an Unmarshaler that keeps the bytes it is given, and refuses
// some, so that the bytes and the error Unmarshal passes on are compared.
type keeps struct{ b []byte }

func (k *keeps) UnmarshalJSON(b []byte) error {
	k.b = append([]byte(nil), b...)
	if len(b) > 0 && b[0] == 't' {
		return errors.New("keeps: no true")
	}
	return nil
}

func TestFastPathTakesCommonTypes(t *testing.T) {
	for _, v := range []any{
		new(string), new(int), new(uint64), new(float64), new(bool), new(any),
		new([]string), new([]any), new(map[string]any), new(map[string]int),
		new(shape), new(*shape), new([]shape), new([3]point),
		new(custom), new(*custom), new(stdjson.RawMessage), new(withTime), new([]custom),
		new(map[string]*custom), new(withCustom),
	} {
		if decoderFor(reflect.TypeOf(v).Elem()) == nil {
			t.Errorf("%T: not decoded by the fast path", v)
		}
	}
	for _, v := range []any{
		new(embeds), new(quoted), new(twice), new(oddTag), new(withNumber),
		new(text), new([]text), new(customPtr), new([]byte), new(map[int]string), new(chan int),
		new(fmt.Stringer),
	} {
		if decoderFor(reflect.TypeOf(v).Elem()) != nil {
			t.Errorf("%T: decoded by the fast path, which does not know it", v)
		}
	}
}

// unmarshalCases are inputs for each of unmarshalTargets; the fuzz target
// starts from them.
var unmarshalCases = []string{
	`["pppp"]`, `[]`, `null`, ` [ "a" , "b\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00" ] `,
	`"\u0041\xff\xfe"`, `"plain"`, `12`, `-0`, `1.5`, `1e3`, `-12345678901234567890`, `18446744073709551615`,
	`3.4e39`, `1e400`, `true`, `false`, `{}`, `[1, 2, 3]`, `[1, "x", null, true, {"a": [1.5]}]`,
	`{"name": "sq", "kind": "poly", "count": 127, "size": 65535, "ratio": 0.5, "exact": 1e-7, "on": true,
	  "tags": ["a", "b"], "points": [{"X": 1, "y": 2}, null, {"x": 3}], "corner": {"X": -1},
	  "attrs": {"k": [1, {"z": null}]}, "weights": {"w": 2.5}, "extra": {"e": 1}, "pair": [1, 2, 3],
	  "children": [{"name": "c", "children": null}], "by_name": {"p": {"Y": 9}, "q": null},
	  "Dash": 1, "-": 7, "hidden": 1, "NAME": "upper", "unknown": {"deep": [1, 2, {"x": "}"}]}}`,
	`{"count": 128}`, `{"size": -1}`, `{"ratio": 1e39}`, `{"tags": "no"}`, `{"points": [{"X": "1"}]}`,
	`{"corner": null, "attrs": null, "tags": null, "pair": [7]}`, `{"name": 5, "count": 1}`,
	`{"\u006eame": "escaped key", "ſize": 3, "K": "kelvin-fold"}`, `{"weights": {"a": "x"}}`,
	`[{"X": 1}, {"Y": 2}, {"X": 1.5}]`, `{"a": 1, "a": 2}`, `[[1, 2], [3]]`,
	`{"c": [1, {"x": "]"}], "p": "str", "r": {"a": [true]} , "k": "ok", "all": [1, "two", null], "m": {"a": "s", "b": "t"}, "n": 1}`,
	`{"c": null, "p": null, "r": null, "k": null, "all": null, "m": null}`,
	`{"k": 5, "n": 2}`, `{"m": {"a": "s", "b": 1}}`, `{"n": "x", "c": 12.5e3}`,
	" \t\r\n3 \n", "\ntrue\t", ` {"a": [1]} `, `nul`, `[1,]`, ` `,
}

// unmarshalTargets make the values decoded into: zero values, and values
// already holding data, since encoding/json decodes into what is there.
var unmarshalTargets = []func() any{
	func() any { return new(string) },
	func() any { return new(int64) },
	func() any { return new(int8) },
	func() any { return new(uint64) },
	func() any { return new(float32) },
	func() any { return new(float64) },
	func() any { return new(bool) },
	func() any { return new(any) },
	func() any { var x any = "was"; return &x },
	func() any { return new([]string) },
	func() any { s := []string{"old", "older", "oldest"}; return &s },
	func() any { s := make([]string, 1, 4); return &s },
	func() any { return new([]any) },
	func() any { return new(map[string]any) },
	func() any { m := map[string]any{"keep": 1}; return &m },
	func() any { return new(map[string]int) },
	func() any { return new(shape) },
	func() any {
		return &shape{Name: "old", Tags: []string{"t1", "t2", "t3"}, Points: []point{{X: 9, Y: 9}},
			Corner: &point{Y: 5}, Attrs: map[string]any{"old": true}, Pair: [2]int{5, 5}, hidden: 3}
	},
	func() any { return &shape{Extra: &point{X: 3}, Children: []*shape{{Name: "kept"}}} },
	func() any { n := 1; var x any = &n; return &x },
	func() any { return new(*shape) },
	func() any { return new([]point) },
	func() any { s := []point{{X: 7, Y: 7}, {X: 8, Y: 8}}; return &s },
	func() any { return new([2]point) },
	func() any { return new(*int) },
	func() any { n := 4; p := &n; return &p },
	func() any { return new([][]int) },
	func() any { return new(map[name][]name) },
	func() any { return new(custom) },
	func() any { return new(*custom) },
	func() any { return new(picky) },
	func() any { return new(stdjson.RawMessage) },
	func() any { return new(customPtr) },
	func() any { return new(withCustom) },
	func() any {
		c := custom(9)
		return &withCustom{P: &c, All: []custom{1, 2, 3}, M: map[string]picky{"old": "x"}}
	},
	// Unmarshalers at the top: Unmarshal calls them itself.
	func() any { return new(keeps) },
	func() any { return &keeps{b: []byte("old")} },
	func() any { k := new(keeps); return &k },
}

// checkUnmarshal decodes data into a fresh target with Codec.Unmarshal and
// with encoding/json, and fails unless the two agree on the value and the
// error.
//
// Beyond the decoding limits, where encoding/json decodes and Unmarshal
// refuses, it checks that Unmarshal refuses exactly what is beyond them.
func checkUnmarshal(t *testing.T, data []byte, target func() any) {
	got, want := target(), target()
	gotErr := Codec{}.Unmarshal(data, got)
	if over := valid(data) && overLimits(data); over || errors.Is(gotErr, codec.ErrLimit) {
		if !over || !errors.Is(gotErr, codec.ErrLimit) {
			t.Fatalf("Unmarshal(%.40q) into %T: error %v, but over the limits: %v", data, got, gotErr, over)
		}
		return
	}
	wantErr := stdjson.Unmarshal(data, want)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("Unmarshal(%q) into %T: error %v, encoding/json says %v", data, got, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal(%q) into %T:\n got %#v\nwant %#v", data, got, deref(got), deref(want))
	}
}

func deref(v any) any { return reflect.ValueOf(v).Elem().Interface() }

// overLimits reports whether data, a valid value, goes beyond
// codec.MaxDepth or codec.MaxItems, found without check: by the nesting of
// its brackets, and by counting the elements and members of what
// encoding/json decodes (duplicate member names aside, which no case here
// has in such numbers).
func overLimits(data []byte) bool {
	if nesting(data) > codec.MaxDepth {
		return true
	}
	var v any
	if stdjson.Unmarshal(data, &v) != nil {
		return false
	}
	return countItems(v) > codec.MaxItems
}

func countItems(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			n += 1 + countItems(e)
		}
	case map[string]any:
		for _, e := range v {
			n += 1 + countItems(e)
		}
	}
	return n
}

// Unmarshal refuses a value beyond the limits whatever it is decoded
// into, before decoding anything; and takes one at the limits.
func TestUnmarshalLimits(t *testing.T) {
	arr := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]" }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, c := range []struct {
		in   string
		want error
	}{
		{arr(codec.MaxItems), nil},
		{arr(codec.MaxItems + 1), codec.ErrItems},
		{deep(codec.MaxDepth), nil},
		{deep(codec.MaxDepth + 1), codec.ErrDepth},
		{deep(100_000), codec.ErrDepth},
	} {
		for _, target := range []func() any{
			func() any { return new(any) }, func() any { return new([]int) }, func() any { return new(stdjson.RawMessage) },
			func() any { return new(custom) }, func() any { return new([]any) },
		} {
			v := target()
			err := Codec{}.Unmarshal([]byte(c.in), v)
			if c.want == nil {
				if errors.Is(err, codec.ErrLimit) {
					t.Errorf("%.20q… (%d bytes) into %T: %v", c.in, len(c.in), v, err)
				}
				continue
			}
			if err != c.want {
				t.Errorf("%.20q… (%d bytes) into %T: %v, want %v", c.in, len(c.in), v, err, c.want)
			}
			if !reflect.ValueOf(v).Elem().IsZero() {
				t.Errorf("%.20q… into %T: decoded %v before refusing it", c.in, v, deref(v))
			}
		}
	}
}

func TestUnmarshalAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range unmarshalCases {
		for _, target := range unmarshalTargets {
			checkUnmarshal(t, []byte(c), target)
		}
	}
	// Types left to encoding/json go to it, errors included.
	for _, v := range []any{new(embeds), new(quoted), new(custom), new([]byte), new(twice)} {
		in := `{"X": 1, "Z": 2, "n": "3", "A": 4}`
		if err, want := (Codec{}).Unmarshal([]byte(in), v), stdjson.Unmarshal([]byte(in), reflect.New(reflect.TypeOf(v).Elem()).Interface()); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("%T: %v, encoding/json says %v", v, err, want)
		}
	}
	var s string
	if err := (Codec{}).Unmarshal([]byte(`"a" "b"`), &s); err == nil || s != "" {
		t.Errorf("trailing data: %q, %v; want encoding/json's syntax error", s, err)
	}
	if err := (Codec{}).Unmarshal([]byte(`"a"`), s); err == nil {
		t.Error("non-pointer target: no error")
	}
}

func TestUnmarshalRecursiveType(t *testing.T) {
	in := `{"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}, null]}`
	var got, want shape
	if err := (Codec{}).Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	_ = stdjson.Unmarshal([]byte(in), &want)
	if !reflect.DeepEqual(got, want) || got.Children[0].Children[0].Name != "b" {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// FuzzUnmarshal checks that Codec.Unmarshal, fast path or not, decodes
// what encoding/json decodes, into each target, with the same errors.
func FuzzUnmarshal(f *testing.F) {
	for _, c := range unmarshalCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, target := range unmarshalTargets {
			checkUnmarshal(t, data, target)
		}
	})
}

func BenchmarkUnmarshal(b *testing.B) {
	cases := []struct {
		name string
		data string
		new  func() any
	}{
		{"strings", `["` + strings.Repeat("p", 64) + `"]`, func() any { return new([]string) }},
		{"struct", `{"name": "sq", "count": 3, "ratio": 0.5, "tags": ["a", "b"], "corner": {"X": 1, "Y": 2}}`,
			func() any { return new(shape) }},
		{"any", `{"a": [1, 2.5, "x"], "b": {"c": true, "d": null}}`, func() any { return new(any) }},
		// A result kept undecoded, as a relay keeps it (rpc.Raw).
		{"unmarshaler", `{"a": [1, 2.5, "x"], "b": {"c": true, "d": null}}`, func() any { return new(stdjson.RawMessage) }},
	}
	for _, c := range cases {
		data := []byte(c.data)
		b.Run(c.name+"/parley", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := (Codec{}).Unmarshal(data, c.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := stdjson.Unmarshal(data, c.new()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
