package json

import (
	"encoding"
	stdjson "encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// AppendValue's fast path.
//
// encoding/json's Encoder goes through its own buffer and state for every
// value; fastAppend writes the common shapes (booleans, numbers, strings,
// pointers, slices and arrays, maps with string keys, structs without
// embedded fields, interfaces holding any of these) straight into dst,
// byte for byte as encoding/json with HTML escaping off would. It gives
// up, reporting false, on anything else: a type with a MarshalJSON or
// MarshalText method, embedded fields, a ",string" or ",omitzero" option,
// []byte, json.Number, a NaN or infinite float, or nesting deeper than
// maxAppendDepth (encoding/json then reports a cycle, if that is what it
// is). AppendValue then encodes the value with encoding/json
// (FuzzAppendValue compares the two).

// encodeFunc appends v's encoding to dst; ok is false if it gave up.
type encodeFunc func(dst []byte, v reflect.Value, depth int) (_ []byte, ok bool)

// maxAppendDepth bounds the nesting fastAppend follows.
const maxAppendDepth = 100

// fastAppend appends the encoding of v to dst, and reports whether it
// could.
func fastAppend(dst []byte, v any) ([]byte, bool) {
	if v == nil {
		return append(dst, "null"...), true
	}
	rv := reflect.ValueOf(v)
	f := encoderFor(rv.Type())
	if f == nil {
		return dst, false
	}
	return f(dst, rv, 0)
}

// valueEncoders caches encoderFor's answers: an encodeFunc, or nil if the
// type is not one fastAppend knows.
var valueEncoders sync.Map // reflect.Type → encodeFunc

func encoderFor(t reflect.Type) encodeFunc {
	if f, ok := valueEncoders.Load(t); ok {
		return f.(encodeFunc)
	}
	return newEncoder(t)
}

// newEncoder builds and caches the encodeFunc of t, out of encoderFor's
// way as newDecoder is.
//
//go:noinline
func newEncoder(t reflect.Type) encodeFunc {
	var f encodeFunc
	if encodable(t, map[reflect.Type]bool{}) {
		f = (&encCompiler{cells: map[reflect.Type]*encodeFunc{}}).compile(t)
	}
	valueEncoders.Store(t, f)
	return f
}

var (
	marshalerType     = reflect.TypeFor[stdjson.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodable reports whether t, and every type it holds, is one that
// fastAppend knows; an interface's dynamic types are looked at when met.
func encodable(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return true
	}
	seen[t] = true
	pt := t
	if t.Kind() != reflect.Pointer {
		pt = reflect.PointerTo(t)
	}
	if pt.Implements(marshalerType) || pt.Implements(textMarshalerType) || t == numberType {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Interface,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	case reflect.Pointer, reflect.Array:
		return encodable(t.Elem(), seen)
	case reflect.Slice:
		return t.Elem().Kind() != reflect.Uint8 && encodable(t.Elem(), seen) // []byte is base64
	case reflect.Map:
		return t.Key().Kind() == reflect.String && encodable(t.Elem(), seen)
	case reflect.Struct:
		fields, ok := encFields(t)
		if !ok {
			return false
		}
		for _, f := range fields {
			if !encodable(t.Field(f.index).Type, seen) {
				return false
			}
		}
		return true
	}
	return false
}

// encField is a struct field that encodes as a member.
type encField struct {
	key       []byte // the member's name, quoted, and a colon
	index     int
	omitEmpty bool
	encode    encodeFunc
}

// encFields lists the fields of t that encode as members, in order, as
// encoding/json does for a struct without embedded fields; ok is false for
// a struct it leaves to encoding/json (see structFields; ",omitzero" too).
func encFields(t reflect.Type) (fields []encField, ok bool) {
	named, ok := structFields(t)
	if !ok {
		return nil, false
	}
	for _, f := range named {
		_, opts, _ := strings.Cut(t.Field(f.index).Tag.Get("json"), ",")
		omitEmpty := false
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "omitzero":
				return nil, false
			case "omitempty":
				omitEmpty = true
			}
		}
		key := append(appendString(nil, f.name), ':')
		fields = append(fields, encField{key: key, index: f.index, omitEmpty: omitEmpty})
	}
	return fields, true
}

// encCompiler builds the encodeFuncs of a type and the types it holds,
// recursive types through a cell as compiler does.
type encCompiler struct {
	cells map[reflect.Type]*encodeFunc
}

func (c *encCompiler) compile(t reflect.Type) encodeFunc {
	if cell, ok := c.cells[t]; ok {
		return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) { return (*cell)(dst, v, depth) }
	}
	cell := new(encodeFunc)
	c.cells[t] = cell
	var f encodeFunc
	switch t.Kind() {
	case reflect.Bool:
		f = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendBool(dst, v.Bool()), true
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		f = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendInt(dst, v.Int(), 10), true
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		f = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
			return strconv.AppendUint(dst, v.Uint(), 10), true
		}
	case reflect.Float32, reflect.Float64:
		f = floatEncoder(t.Bits())
	case reflect.String:
		f = func(dst []byte, v reflect.Value, _ int) ([]byte, bool) { return appendString(dst, v.String()), true }
	case reflect.Interface:
		f = encodeInterface
	case reflect.Pointer:
		f = pointerEncoder(c.compile(t.Elem()))
	case reflect.Slice:
		f = sliceEncoder(c.compile(t.Elem()))
	case reflect.Array:
		f = arrayEncoder(c.compile(t.Elem()))
	case reflect.Map:
		f = mapEncoder(c.compile(t.Elem()))
	case reflect.Struct:
		fields, _ := encFields(t)
		for i := range fields {
			fields[i].encode = c.compile(t.Field(fields[i].index).Type)
		}
		f = structEncoder(fields)
	}
	*cell = f
	return f
}

// floatEncoder writes floats as encoding/json does: like ES6's number to
// string conversion, exponents past 1e21 and below 1e-6, not padded.
func floatEncoder(bits int) encodeFunc {
	return func(dst []byte, v reflect.Value, _ int) ([]byte, bool) {
		f := v.Float()
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return dst, false
		}
		abs := math.Abs(f)
		format := byte('f')
		if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
			format = 'e'
		}
		dst = strconv.AppendFloat(dst, f, format, -1, bits)
		if n := len(dst); format == 'e' && n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1] // e-09 to e-9
			dst = dst[:n-1]
		}
		return dst, true
	}
}

func encodeInterface(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
	if v.IsNil() {
		return append(dst, "null"...), true
	}
	e := v.Elem()
	f := encoderFor(e.Type())
	if f == nil {
		return dst, false
	}
	return f(dst, e, depth)
}

func pointerEncoder(elem encodeFunc) encodeFunc {
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if v.IsNil() {
			return append(dst, "null"...), true
		}
		if depth >= maxAppendDepth {
			return dst, false
		}
		return elem(dst, v.Elem(), depth+1)
	}
}

func sliceEncoder(elem encodeFunc) encodeFunc {
	array := arrayEncoder(elem)
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if v.IsNil() {
			return append(dst, "null"...), true
		}
		return array(dst, v, depth)
	}
}

func arrayEncoder(elem encodeFunc) encodeFunc {
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= maxAppendDepth {
			return dst, false
		}
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = elem(dst, v.Index(i), depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
}

// mapEncoder writes a map with string keys as an object, its members in
// the order of their keys, as encoding/json does.
func mapEncoder(elem encodeFunc) encodeFunc {
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if v.IsNil() {
			return append(dst, "null"...), true
		}
		if depth >= maxAppendDepth {
			return dst, false
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(appendString(dst, k.String()), ':')
			var ok bool
			if dst, ok = elem(dst, v.MapIndex(k), depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
}

func structEncoder(fields []encField) encodeFunc {
	return func(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
		if depth >= maxAppendDepth {
			return dst, false
		}
		dst = append(dst, '{')
		first := true
		for i := range fields {
			f := &fields[i]
			fv := v.Field(f.index)
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, f.key...)
			var ok bool
			if dst, ok = f.encode(dst, fv, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
}

// isEmpty is what ",omitempty" leaves out, as encoding/json has it.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Struct:
		return false
	}
	return v.IsZero()
}
