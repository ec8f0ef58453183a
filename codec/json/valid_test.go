package json

import (
	stdjson "encoding/json"
	"strings"
	"testing"

	"github.com/parleyrpc/parley/codec"
)

var validCases = []string{
	``, ` `, `1`, `-`, `-0`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-1.5e10`, `2.`, `.5`,
	`"`, `""`, `"\"`, `"\u12"`, `"\u12g4"`, `"\u1234"`, `"\x"`, `"a\/b"`, "\"\x1f\"", "\"\x7f\xff\"",
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `[`, `]`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`,
	`{}`, `{ }`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}`, `[1]]`, `{"a":[1,{"b":null}]}`,
	` {"a" : [ 1 , 2 ] } `, `{"a":1}x`, `[1]x`, `1 2`, "\t\n\r[]", `[{]`, `{[}`, `[}`, `{]`, `{"a":1]`, `[1}`,
}

// stdMaxDepth is the nesting encoding/json's Valid accepts at most; valid
// has no such bound (depth is a limit on decoding values, which check
// applies for Unmarshal).
const stdMaxDepth = 10000

// nesting returns the deepest nesting of brackets in data, a valid value.
func nesting(data []byte) int {
	s := scanner{data: data}
	depth, deepest := 0, 0
	for s.pos < len(data) {
		switch data[s.pos] {
		case '"':
			s.skipString()
			continue
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
		s.pos++
	}
	return deepest
}

// agreesWithStd fails unless valid agrees with encoding/json's Valid on
// data, beyond which encoding/json refuses more than 10,000 levels.
func agreesWithStd(t *testing.T, data []byte) {
	t.Helper()
	got, want := valid(data), stdjson.Valid(data)
	if got && !want && nesting(data) > stdMaxDepth {
		return
	}
	if got != want {
		t.Fatalf("valid(%.40q) = %v, encoding/json says %v", data, got, want)
	}
}

// valid agrees with encoding/json's Valid, case by case and under the fuzzer.
func TestValidAgreesWithEncodingJSON(t *testing.T) {
	cases := append([]string(nil), validCases...)
	for _, d := range []int{stdMaxDepth - 1, stdMaxDepth, stdMaxDepth + 1} {
		cases = append(cases, strings.Repeat("[", d)+strings.Repeat("]", d),
			strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d))
	}
	for _, c := range cases {
		agreesWithStd(t, []byte(c))
	}
	// Beyond encoding/json's bound, valid takes nesting as deep as a
	// message can hold, and still finds what is wrong at the bottom.
	deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
	if !valid([]byte(deep)) || valid([]byte(deep[1:])) || valid([]byte(deep[:len(deep)-1])) {
		t.Error("valid is wrong about a million levels of nesting")
	}
}

// check with limits counts levels and items as codec.MaxDepth and
// codec.MaxItems define them, and refuses exactly what goes beyond.
func TestCheckLimits(t *testing.T) {
	arr := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]" }
	cases := []struct {
		in   string
		want error
	}{
		{strings.Repeat("[", codec.MaxDepth) + strings.Repeat("]", codec.MaxDepth), nil},
		{strings.Repeat("[", codec.MaxDepth+1) + strings.Repeat("]", codec.MaxDepth+1), codec.ErrDepth},
		{strings.Repeat(`{"a":`, codec.MaxDepth) + "1" + strings.Repeat("}", codec.MaxDepth), nil},
		{strings.Repeat(`{"a":`, codec.MaxDepth+1) + "1" + strings.Repeat("}", codec.MaxDepth+1), codec.ErrDepth},
		{arr(codec.MaxItems), nil},
		{arr(codec.MaxItems + 1), codec.ErrItems},
		// Items are counted over every level: each member and element.
		{"[" + arr(codec.MaxItems-1) + "]", nil},
		{"[" + arr(codec.MaxItems-1) + ",1]", codec.ErrItems},
		{`{"a":` + arr(codec.MaxItems-1) + "}", nil},
		{`{"a":` + arr(codec.MaxItems-1) + `,"b":{}}`, codec.ErrItems},
		{"[" + arr(codec.MaxItems/2) + "," + arr(codec.MaxItems/2-2) + "]", nil},
		{"[" + arr(codec.MaxItems/2) + "," + arr(codec.MaxItems/2-1) + "]", codec.ErrItems},
		// A scalar holds no items; malformed input is a syntax error.
		{`"` + strings.Repeat("x", codec.MaxItems*2) + `"`, nil},
		{"[1,", errSyntax},
	}
	for _, c := range cases {
		if got := check([]byte(c.in), true); got != c.want {
			t.Errorf("check(%.40q…, %d bytes) = %v, want %v", c.in, len(c.in), got, c.want)
		}
		if got := check([]byte(c.in), false); (got == nil) != (c.want != errSyntax) {
			t.Errorf("check(%.40q…) without limits = %v", c.in, got)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) { agreesWithStd(t, data) })
}

func BenchmarkValid(b *testing.B) {
	msg := []byte(`{"jsonrpc": "2.0", "method": "echo", "params": ["` + strings.Repeat("p", 64) + `", 1.5e3, true, null, {"k": [1, 2]}], "id": 12345}`)
	b.Run("parley", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if !valid(msg) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if !stdjson.Valid(msg) {
				b.Fatal("invalid")
			}
		}
	})
}
