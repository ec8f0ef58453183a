package socketio

import (
	"bytes"
	"encoding/base64"
	stdjson "encoding/json"
	"strings"
	"testing"
)

// decodeArg runs the argument through encoding/json, as go-socket.io does.
func decodeArg(t testing.TB, raw string) eventArg {
	t.Helper()
	var a eventArg
	vals := []any{&a}
	if err := stdjson.Unmarshal([]byte("["+raw+"]"), &vals); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return a
}

func TestEventArgNeverFails(t *testing.T) {
	for _, c := range []struct {
		raw  string
		kind argKind
	}{
		{`"text"`, argText},
		{`42`, argOther},
		{`-1.5e3`, argOther},
		{`{"a":1}`, argOther},
		{`{"_placeholder":true,"num":0}`, argBinary},
		{`{"_placeholder":false}`, argOther},
		{`[1,2]`, argOther},
		{`true`, argOther},
		{`false`, argOther},
		{`null`, argMissing}, // encoding/json does not call UnmarshalJSON for null here
	} {
		if a := decodeArg(t, c.raw); a.kind != c.kind {
			t.Errorf("%s: kind %d, want %d", c.raw, a.kind, c.kind)
		}
	}
}

func TestMessage(t *testing.T) {
	const max = 64
	b64 := func(s string) string { return `"` + base64.StdEncoding.EncodeToString([]byte(s)) + `"` }
	for _, c := range []struct {
		name   string
		raw    string
		binary bool
		want   string
		code   int64
	}{
		{"text", `"{\"a\":\"\u00e9\"}"`, false, `{"a":"é"}`, 0},
		{"number", `1`, false, "", codeInvalidRequest},
		{"placeholder", `{"_placeholder":true,"num":3}`, false, "", codeInvalidRequest},
		{"null", `null`, false, "", codeInvalidRequest},
		{"at the limit", `"` + strings.Repeat("x", max) + `"`, false, strings.Repeat("x", max), 0},
		{"over the limit", `"` + strings.Repeat("x", max+1) + `"`, false, "", codeInvalidRequest},
		{"over the limit, escaped", `"` + strings.Repeat(`\u0001`, max+1) + `"`, false, "", codeInvalidRequest},
		{"base64", b64("\xa1\x01\x02"), true, "\xa1\x01\x02", 0},
		{"base64 at the limit", b64(strings.Repeat("\xff", max)), true, strings.Repeat("\xff", max), 0},
		{"base64 over the limit", b64(strings.Repeat("\xff", max+1)), true, "", codeInvalidRequest},
		{"not base64", `"abc!"`, true, "", codeParseError},
		{"base64 without padding", `"YQ"`, true, "", codeParseError},
	} {
		a := decodeArg(t, c.raw)
		got, rej := a.message(c.binary, max)
		switch {
		case c.code != 0 && (rej == nil || rej.code != c.code):
			t.Errorf("%s: got %q, %v; want code %d", c.name, got, rej, c.code)
		case c.code == 0 && (rej != nil || string(got) != c.want):
			t.Errorf("%s: got %q, %v; want %q", c.name, got, rej, c.want)
		}
	}
}

// FuzzEventArg: whatever JSON value arrives as the event's argument, it
// decodes, and message never panics.
func FuzzEventArg(f *testing.F) {
	for _, s := range []string{`"x"`, `1`, `{"_placeholder":true,"num":99}`, `[]`, `null`, `"YWJj"`} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, binary bool) {
		if !stdjson.Valid([]byte(raw)) {
			return
		}
		var a eventArg
		vals := []any{&a}
		if err := stdjson.Unmarshal([]byte("["+raw+"]"), &vals); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		msg, rej := a.message(binary, 256)
		if rej == nil && len(msg) > 256 {
			t.Fatalf("%s: message of %d bytes passed a limit of 256", raw, len(msg))
		}
		if rej != nil || a.kind != argText {
			return
		}
		var s string
		if err := stdjson.Unmarshal([]byte(raw), &s); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		want := []byte(s)
		if binary {
			var err error
			if want, err = base64.StdEncoding.DecodeString(s); err != nil {
				t.Fatalf("%s: accepted, but encoding/base64 says %v", raw, err)
			}
		}
		if !bytes.Equal(msg, want) {
			t.Fatalf("%s: got %q, want %q", raw, msg, want)
		}
	})
}

var sink []byte

func BenchmarkMessage(b *testing.B) {
	req := `{"jsonrpc":"2.0","method":"update","params":{"name":"caf\u00e9","items":[1,2,3],"note":"` +
		strings.Repeat("lorem ipsum ", 60) + `"},"id":17}`
	lit, _ := stdjson.Marshal(req)
	b64lit, _ := stdjson.Marshal(base64.StdEncoding.EncodeToString([]byte(req)))
	for _, c := range []struct {
		name   string
		lit    []byte
		binary bool
	}{{"json", lit, false}, {"base64", b64lit, true}} {
		b.Run(c.name, func(b *testing.B) {
			a := eventArg{kind: argText, text: string(c.lit)}
			b.SetBytes(int64(len(c.lit)))
			b.ReportAllocs()
			for b.Loop() {
				sink, _ = a.message(c.binary, 1<<20)
			}
		})
	}
	// For comparison: what decoding the literal with encoding/json costs.
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(lit)))
		b.ReportAllocs()
		for b.Loop() {
			var s string
			_ = stdjson.Unmarshal(lit, &s)
			sink = []byte(s)
		}
	})
}
