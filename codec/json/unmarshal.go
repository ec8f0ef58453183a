package json

import (
	"bytes"
	"encoding"
	stdjson "encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/parleyrpc/parley/internal/jsonstr"
)

// Unmarshal's fast path.
//
// encoding/json's Unmarshal reads its input twice, once to validate it and
// once to decode it, with a state-function call per byte each time, and
// allocates its decoder per call: for the small params and results of
// calls, that is most of what decoding them costs. fastUnmarshal decodes
// the common shapes itself after the package's own validation (check),
// with encoding/json's semantics: booleans, numbers, strings, pointers,
// slices and arrays, maps with string keys, structs without embedded
// fields, empty interfaces, and types with an UnmarshalJSON method, which
// get the value's bytes as encoding/json gives them (so that a struct with
// an rpc.Raw member, say, is not decoded twice). It gives up, reporting
// false, on anything else: a type it does not know (one with only an
// UnmarshalText method, embedded fields, a ",string" option, []byte...),
// or a value that does not fit its target, which encoding/json reports as
// an error. Giving up may leave v partly written; Unmarshal then decodes
// data into v again with encoding/json, which writes the same values over
// them, so that the outcome is encoding/json's in every case
// (FuzzUnmarshal compares the two); an UnmarshalJSON method may then be
// called twice, and must not be one that appends to what is there.

// decodeFunc decodes the value at s.pos, which is past any white space,
// into v, and leaves s.pos just past the value. It reports false if it
// gives up.
type decodeFunc func(s *scanner, v reflect.Value) bool

// fastUnmarshal decodes data, which check has found to be one JSON value
// within the limits, into v, and reports whether it could.
func fastUnmarshal(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return false
	}
	f := decoderFor(rv.Type().Elem())
	if f == nil {
		return false
	}
	s := scanners.Get().(*scanner)
	*s = scanner{data: data}
	s.skipSpace()
	ok := f(s, rv.Elem())
	*s = scanner{}
	scanners.Put(s)
	return ok
}

// scanners saves fastUnmarshal an allocation: a scanner passed to a
// decodeFunc escapes.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// decoders caches decoderFor's answers: a decodeFunc, or nil if the type
// is not one fastUnmarshal knows.
var decoders sync.Map // reflect.Type → decodeFunc

func decoderFor(t reflect.Type) decodeFunc {
	if f, ok := decoders.Load(t); ok {
		return f.(decodeFunc)
	}
	return newDecoder(t)
}

// newDecoder builds and caches the decodeFunc of t. It is kept out of
// decoderFor, whose frame every decoding pays for.
//
//go:noinline
func newDecoder(t reflect.Type) decodeFunc {
	var f decodeFunc
	if supported(t, map[reflect.Type]bool{}) {
		f = (&compiler{cells: map[reflect.Type]*decodeFunc{}}).compile(t)
	}
	decoders.Store(t, f)
	return f
}

var (
	unmarshalerType     = reflect.TypeFor[stdjson.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	numberType          = reflect.TypeFor[stdjson.Number]()
	stringType          = reflect.TypeFor[string]()
	mapStringAnyType    = reflect.TypeFor[map[string]any]()
)

// supported reports whether t, and every type it holds, is one that
// fastUnmarshal knows. seen holds the types already looked at (types can
// be recursive).
func supported(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	if unmarshaler(t) {
		return true
	}
	if t.Kind() == reflect.Pointer {
		// Decoded through, to the element; but a named pointer type hides
		// its element's UnmarshalJSON from encoding/json, which then
		// decodes the element by its kind: left to it.
		return !(t.Name() != "" && unmarshaler(t.Elem())) && supported(t.Elem(), seen)
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) || t == numberType {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Interface:
		return t.NumMethod() == 0
	case reflect.Array:
		return supported(t.Elem(), seen)
	case reflect.Slice:
		// A string into a []byte is base64: left to encoding/json.
		return t.Elem().Kind() != reflect.Uint8 && supported(t.Elem(), seen)
	case reflect.Map:
		k := t.Key()
		return k.Kind() == reflect.String && !reflect.PointerTo(k).Implements(textUnmarshalerType) &&
			supported(t.Elem(), seen)
	case reflect.Struct:
		fields, ok := structFields(t)
		if !ok {
			return false
		}
		for _, f := range fields {
			if !supported(t.Field(f.index).Type, seen) {
				return false
			}
		}
		return true
	}
	return false
}

// field is a struct field that JSON members decode into.
type field struct {
	name   string // the member's name: the tag's, or the field's
	folded []byte // name case-folded, for the inexact match
	index  int
	decode decodeFunc
}

// structFields lists the fields of t that members decode into, in order,
// as encoding/json does for a struct without embedded fields; ok is false
// for a struct it leaves to encoding/json: one with embedded fields, a
// ",string" option, a tag name it would not take as written, or two
// fields of one name (encoding/json's rules for picking one are left to
// it).
func structFields(t reflect.Type) (fields []field, ok bool) {
	names := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil, false
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		for opt := range strings.SplitSeq(opts, ",") {
			if opt == "string" {
				return nil, false
			}
		}
		if name == "" {
			name = sf.Name
		} else if !plainTagName(name) {
			return nil, false
		}
		if names[name] {
			return nil, false
		}
		names[name] = true
		fields = append(fields, field{name: name, folded: foldName(nil, []byte(name)), index: i})
	}
	return fields, true
}

// plainTagName reports whether a tag name is one encoding/json takes as
// written: ASCII letters, digits and the common punctuation.
func plainTagName(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.$@:/", c) >= 0) {
			return false
		}
	}
	return true
}

// foldName appends name case-folded to dst as encoding/json folds member
// names to match them to fields: ASCII letters upper-cased, other runes
// replaced by the smallest rune of their case-folding orbit.
func foldName(dst, name []byte) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// compiler builds the decodeFuncs of a type and the types it holds. A
// recursive type refers to itself through a cell that is filled in once
// its function is built.
type compiler struct {
	cells map[reflect.Type]*decodeFunc
}

func (c *compiler) compile(t reflect.Type) decodeFunc {
	if unmarshaler(t) {
		return decodeUnmarshaler
	}
	if cell, ok := c.cells[t]; ok {
		return func(s *scanner, v reflect.Value) bool { return (*cell)(s, v) }
	}
	cell := new(decodeFunc)
	c.cells[t] = cell
	var f decodeFunc
	switch t.Kind() {
	case reflect.Bool:
		f = decodeBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = decodeInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f = decodeUint
	case reflect.Float32, reflect.Float64:
		f = decodeFloat
	case reflect.String:
		f = decodeString
	case reflect.Interface:
		f = decodeInterface
	case reflect.Pointer:
		f = pointerDecoder(c.compile(t.Elem()))
	case reflect.Slice:
		f = sliceDecoder(c.compile(t.Elem()))
	case reflect.Array:
		f = arrayDecoder(c.compile(t.Elem()))
	case reflect.Map:
		if t == mapStringAnyType {
			f = decodeMapStringAny
		} else {
			f = mapDecoder(t, c.compile(t.Elem()))
		}
	case reflect.Struct:
		fields, _ := structFields(t)
		for i := range fields {
			fields[i].decode = c.compile(t.Field(fields[i].index).Type)
		}
		f = structDecoder(fields)
	}
	*cell = f
	return f
}

// unmarshaler reports whether values of t are decoded by their own
// UnmarshalJSON method: t's address has one, and t is neither a pointer
// (decoded through, to the element) nor an interface.
func unmarshaler(t reflect.Type) bool {
	k := t.Kind()
	return k != reflect.Pointer && k != reflect.Interface && reflect.PointerTo(t).Implements(unmarshalerType)
}

// decodeUnmarshaler passes the value at s.pos, null included, to the
// UnmarshalJSON method of v's address, as encoding/json does. (Every
// value the fast path decodes into is addressable.) It gives up if the
// method fails, so that encoding/json reports the error as it does.
func decodeUnmarshaler(s *scanner, v reflect.Value) bool {
	start := s.pos
	s.skipValue()
	return v.Addr().Interface().(stdjson.Unmarshaler).UnmarshalJSON(s.data[start:s.pos]) == nil
}

// null consumes a null if there is one at s.pos.
func (s *scanner) null() bool {
	if s.data[s.pos] == 'n' {
		s.pos += len("null")
		return true
	}
	return false
}

// numberToken returns the number at s.pos; valid checked its syntax.
func (s *scanner) numberToken() []byte {
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			s.pos++
			continue
		}
		break
	}
	return s.data[start:s.pos]
}

// isNumber reports whether c starts a number.
func isNumber(c byte) bool { return c == '-' || '0' <= c && c <= '9' }

// asString views b as a string, for parsers that do not keep it.
func asString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func decodeBool(s *scanner, v reflect.Value) bool {
	switch s.data[s.pos] {
	case 't':
		s.pos += len("true")
		v.SetBool(true)
	case 'f':
		s.pos += len("false")
		v.SetBool(false)
	case 'n':
		s.pos += len("null") // no effect, as in encoding/json
	default:
		return false
	}
	return true
}

func decodeInt(s *scanner, v reflect.Value) bool {
	if s.null() {
		return true
	}
	if !isNumber(s.data[s.pos]) {
		return false
	}
	tok := s.numberToken()
	n, ok := smallInt(tok)
	if !ok {
		var err error
		if n, err = strconv.ParseInt(asString(tok), 10, 64); err != nil {
			return false
		}
	}
	if v.OverflowInt(n) {
		return false
	}
	v.SetInt(n)
	return true
}

// smallInt parses an integer of up to 18 digits, which cannot overflow;
// ok is false for anything else.
func smallInt(tok []byte) (n int64, ok bool) {
	digits := tok
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(tok) {
		n = -n
	}
	return n, true
}

func decodeUint(s *scanner, v reflect.Value) bool {
	if s.null() {
		return true
	}
	if !isNumber(s.data[s.pos]) {
		return false
	}
	tok := s.numberToken()
	var n uint64
	if i, ok := smallInt(tok); ok && tok[0] != '-' {
		n = uint64(i)
	} else {
		var err error
		if n, err = strconv.ParseUint(asString(tok), 10, 64); err != nil {
			return false
		}
	}
	if v.OverflowUint(n) {
		return false
	}
	v.SetUint(n)
	return true
}

func decodeFloat(s *scanner, v reflect.Value) bool {
	if s.null() {
		return true
	}
	if !isNumber(s.data[s.pos]) {
		return false
	}
	n, err := strconv.ParseFloat(asString(s.numberToken()), v.Type().Bits())
	if err != nil || v.OverflowFloat(n) {
		return false
	}
	v.SetFloat(n)
	return true
}

func decodeString(s *scanner, v reflect.Value) bool {
	if s.null() {
		return true
	}
	if s.data[s.pos] != '"' {
		return false
	}
	v.SetString(unquote(s.stringToken()))
	return true
}

// decodeInterface decodes into an empty interface. One that holds a
// pointer is decoded through by encoding/json, and left to it.
func decodeInterface(s *scanner, v reflect.Value) bool {
	if !v.IsNil() && v.Elem().Kind() == reflect.Pointer {
		return false
	}
	if s.null() {
		v.SetZero()
		return true
	}
	x, ok := s.anyValue()
	if ok {
		v.Set(reflect.ValueOf(x))
	}
	return ok
}

// anyValue decodes the value at s.pos as encoding/json does into an empty
// interface: nil, bool, float64, string, []any or map[string]any.
func (s *scanner) anyValue() (any, bool) {
	switch c := s.data[s.pos]; c {
	case 'n':
		s.pos += len("null")
		return nil, true
	case 't':
		s.pos += len("true")
		return true, true
	case 'f':
		s.pos += len("false")
		return false, true
	case '"':
		return unquote(s.stringToken()), true
	case '[':
		a := make([]any, 0)
		n := s.elements(func(int) bool {
			x, ok := s.anyValue()
			a = append(a, x)
			return ok
		})
		return a, n >= 0
	case '{':
		m := make(map[string]any)
		return m, s.members(m)
	default:
		n, err := strconv.ParseFloat(asString(s.numberToken()), 64)
		return n, err == nil
	}
}

// more moves past the comma or the closing byte after an element, and
// reports whether another element follows.
func (s *scanner) more(closing byte) bool {
	s.skipSpace()
	c := s.data[s.pos]
	s.pos++
	s.skipSpace()
	return c != closing
}

// members decodes the members of the object at s.pos into m.
func (s *scanner) members(m map[string]any) bool {
	s.pos++
	s.skipSpace()
	if s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	for {
		key := unquote(s.stringToken())
		s.colon()
		x, ok := s.anyValue()
		if !ok {
			return false
		}
		m[key] = x
		if !s.more('}') {
			return true
		}
	}
}

// colon moves past the colon after a member's key.
func (s *scanner) colon() {
	s.skipSpace()
	s.pos++
	s.skipSpace()
}

func decodeMapStringAny(s *scanner, v reflect.Value) bool {
	if s.null() {
		v.SetZero()
		return true
	}
	if s.data[s.pos] != '{' {
		return false
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	return s.members(v.Interface().(map[string]any))
}

func pointerDecoder(elem decodeFunc) decodeFunc {
	return func(s *scanner, v reflect.Value) bool {
		if s.null() {
			v.SetZero()
			return true
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return elem(s, v.Elem())
	}
}

// elements walks the array at s.pos, whose '[' the caller has checked,
// calling each with every element's index, s.pos at the element, to
// decode or skip it. It returns the number of elements, or -1 if each
// gave up.
func (s *scanner) elements(each func(i int) bool) int {
	s.pos++
	s.skipSpace()
	if s.data[s.pos] == ']' {
		s.pos++
		return 0
	}
	for i := 0; ; i++ {
		if !each(i) {
			return -1
		}
		if !s.more(']') {
			return i + 1
		}
	}
}

// sliceDecoder decodes an array into a slice as encoding/json does: into
// the elements already there, growing the slice one element at a time.
func sliceDecoder(elem decodeFunc) decodeFunc {
	return func(s *scanner, v reflect.Value) bool {
		if s.null() {
			v.SetZero()
			return true
		}
		if s.data[s.pos] != '[' {
			return false
		}
		n := s.elements(func(i int) bool {
			if i >= v.Cap() {
				v.Grow(1)
			}
			if i >= v.Len() {
				v.SetLen(i + 1)
			}
			return elem(s, v.Index(i))
		})
		switch {
		case n < 0:
			return false
		case n == 0:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case n < v.Len():
			v.SetLen(n)
		}
		return true
	}
}

// arrayDecoder decodes an array into a Go array: elements beyond its
// length are dropped, and those the JSON array lacks are zeroed.
func arrayDecoder(elem decodeFunc) decodeFunc {
	return func(s *scanner, v reflect.Value) bool {
		if s.null() {
			return true
		}
		if s.data[s.pos] != '[' {
			return false
		}
		n := s.elements(func(i int) bool {
			if i >= v.Len() {
				s.skipValue()
				return true
			}
			return elem(s, v.Index(i))
		})
		if n < 0 {
			return false
		}
		for i := n; i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
		return true
	}
}

// mapDecoder decodes an object into a map with string keys; each member's
// value is decoded into a zero element, then stored.
func mapDecoder(t reflect.Type, elem decodeFunc) decodeFunc {
	kt, et := t.Key(), t.Elem()
	return func(s *scanner, v reflect.Value) bool {
		if s.null() {
			v.SetZero()
			return true
		}
		if s.data[s.pos] != '{' {
			return false
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		s.pos++
		s.skipSpace()
		if s.data[s.pos] == '}' {
			s.pos++
			return true
		}
		ev := reflect.New(et).Elem()
		for {
			kv := reflect.ValueOf(unquote(s.stringToken()))
			if kt != stringType {
				kv = kv.Convert(kt)
			}
			s.colon()
			ev.SetZero()
			if !elem(s, ev) {
				return false
			}
			v.SetMapIndex(kv, ev)
			if !s.more('}') {
				return true
			}
		}
	}
}

// structDecoder decodes an object into a struct: a member goes to the
// field of its name, or failing that to the first whose name matches it
// regardless of case; other members are skipped.
func structDecoder(fields []field) decodeFunc {
	return func(s *scanner, v reflect.Value) bool {
		if s.null() {
			return true
		}
		if s.data[s.pos] != '{' {
			return false
		}
		s.pos++
		s.skipSpace()
		if s.data[s.pos] == '}' {
			s.pos++
			return true
		}
		var fold [64]byte
		for {
			key := s.stringToken()
			key = key[1 : len(key)-1]
			if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
				key = []byte(unquote(s.data[s.pos-len(key)-2 : s.pos]))
			}
			f := match(fields, key, fold[:0])
			s.colon()
			if f == nil {
				s.skipValue()
			} else if !f.decode(s, v.Field(f.index)) {
				return false
			}
			if !s.more('}') {
				return true
			}
		}
	}
}

// match finds the field a member's key names, if any; buf is room for
// the folded key.
func match(fields []field, key, buf []byte) *field {
	for i := range fields {
		if fields[i].name == string(key) {
			return &fields[i]
		}
	}
	folded := foldName(buf, key)
	for i := range fields {
		if bytes.Equal(fields[i].folded, folded) {
			return &fields[i]
		}
	}
	return nil
}

// unquote returns the string a JSON string token spells, as encoding/json
// reads it: escapes resolved, an invalid UTF-8 byte or a lone UTF-16
// surrogate read as U+FFFD. The token is valid (valid said so).
func unquote(tok []byte) string {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	b, _ := jsonstr.AppendUnquoted(make([]byte, 0, len(inner)+utf8.UTFMax), asString(tok))
	return string(b)
}
