package json

import (
	stdjson "encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `1`, `-`, `-0`, `01`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-1.5e10`, `2.`, `.5`,
	`"`, `""`, `"\"`, `"\u12"`, `"\u12g4"`, `"\u1234"`, `"\x"`, `"a\/b"`, "\"\x1f\"", "\"\x7f\xff\"",
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `[`, `]`, `[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`,
	`{}`, `{ }`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1}`, `[1]]`, `{"a":[1,{"b":null}]}`,
	` {"a" : [ 1 , 2 ] } `, `{"a":1}x`, `[1]x`, `1 2`, "\t\n\r[]", `[{]`, `{[}`, `[}`, `{]`, `{"a":1]`, `[1}`,
}

// valid agrees with encoding/json's Valid, case by case and under the fuzzer.
func TestValidAgreesWithEncodingJSON(t *testing.T) {
	cases := append([]string(nil), validCases...)
	for _, d := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		cases = append(cases, strings.Repeat("[", d)+strings.Repeat("]", d),
			strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d))
	}
	for _, c := range cases {
		if got, want := valid([]byte(c)), stdjson.Valid([]byte(c)); got != want {
			t.Errorf("valid(%.40q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := valid(data), stdjson.Valid(data); got != want {
			t.Fatalf("valid(%q) = %v, encoding/json says %v", data, got, want)
		}
	})
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
