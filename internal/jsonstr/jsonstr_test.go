package jsonstr

import (
	"bytes"
	stdjson "encoding/json"
	"testing"
)

func TestAppendUnquoted(t *testing.T) {
	for _, s := range []string{
		`""`, `"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u20AC"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ude00x"`, `"\ud83d\u0041"`, `"\ud83dx"`, "\"caf\xc3\xa9\"", "\"bad \xff utf8\"",
		"\"\xed\xa0\x80\"", `"😀 direct"`,
	} {
		checkUnquote(t, s)
	}
	for _, bad := range []string{``, `"`, `x`, `"\"`, `"\x"`, `"\u12"`, `"\u12g4"`, "\"a\nb\"", `"a"b"`} {
		if _, ok := AppendUnquoted(nil, bad); ok {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// checkUnquote compares AppendUnquoted with encoding/json on a literal it
// accepts.
func checkUnquote(t *testing.T, lit string) {
	t.Helper()
	var want string
	if err := stdjson.Unmarshal([]byte(lit), &want); err != nil {
		t.Fatalf("%q: encoding/json: %v", lit, err)
	}
	got, ok := AppendUnquoted([]byte("prefix"), lit)
	if !ok || !bytes.Equal(got, []byte("prefix"+want)) {
		t.Errorf("%q: got %q, %v; want %q", lit, got, ok, want)
	}
}

// FuzzAppendUnquoted: on every valid JSON string literal, AppendUnquoted
// agrees with encoding/json; on anything else it does not panic.
func FuzzAppendUnquoted(f *testing.F) {
	for _, s := range []string{`"a\u00e9\ud83d\ude00\n"`, `"\ud800\udc00"`, "\"\xff\"", `"\ud83d\\"`, `"x\/y"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want string
		// encoding/json allows white space around the literal; the
		// literals its callers hand over have none.
		if len(s) > 1 && s[0] == '"' && s[len(s)-1] == '"' && stdjson.Unmarshal([]byte(s), &want) == nil {
			checkUnquote(t, s)
			return
		}
		_, _ = AppendUnquoted(nil, s)
	})
}
