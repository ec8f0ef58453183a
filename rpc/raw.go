package rpc

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
)

// Raw values travel between peers without being decoded: a router that
// forwards a call's params, result or error data (the hub does) takes them
// as a Raw from one peer and gives them to another. Given to a peer with
// the same codec, a Raw is copied byte for byte; to a peer with another
// codec, it is decoded into plain Go values and encoded again.
//
// Inside a larger value (a struct field, a map entry), a Raw is written by
// the JSON and CBOR codecs through its MarshalJSON and MarshalCBOR methods
// and read through UnmarshalJSON and UnmarshalCBOR, so that a handler can
// leave one member of its params undecoded. Written by the codec it was
// encoded with it is copied as it is; a CBOR Raw written as JSON is
// converted; a JSON Raw cannot be written inside a CBOR value (the core
// has no CBOR encoder): convert it first with [Raw.For].

// NewRaw returns data, which must hold exactly one value encoded with c, as
// a Raw. The caller must not modify data afterwards.
func NewRaw(c codec.Codec, data []byte) Raw { return Raw{data: data, codec: c} }

// EncodeRaw encodes v with c. A Raw v is converted with [Raw.For].
func EncodeRaw(c codec.Codec, v any) (Raw, error) {
	if c == nil {
		return Raw{}, errors.New("rpc: EncodeRaw: nil codec")
	}
	if r, ok := v.(Raw); ok {
		return r.For(c)
	}
	b, err := c.Marshal(v)
	if err != nil {
		return Raw{}, err
	}
	return Raw{data: b, codec: c}, nil
}

// Codec returns the codec r is encoded with. It is nil for a Raw read by
// UnmarshalCBOR (the core cannot name the CBOR codec): bind such a value
// with NewRaw(codec, r.Bytes()) before decoding it.
func (r Raw) Codec() codec.Codec { return r.codec }

// IsZero reports whether r holds no value (a member that was absent).
func (r Raw) IsZero() bool { return len(r.data) == 0 }

// IsNull reports whether r holds no value or encodes null.
func (r Raw) IsNull() bool {
	if len(r.data) == 0 {
		return true
	}
	if r.codec == nil || r.codec.Name() == "cbor" {
		return len(r.data) == 1 && (r.data[0] == 0xf6 || r.data[0] == 0xf7) // null, undefined
	}
	if r.codec.Name() == "json" {
		return string(bytes.TrimSpace(r.data)) == "null"
	}
	v, err := r.value()
	return err == nil && v == nil
}

// For returns r encoded with c: r itself when c is r's codec, otherwise r
// decoded into plain Go values (maps, slices, strings, numbers) and
// encoded with c.
func (r Raw) For(c codec.Codec) (Raw, error) {
	if sameCodec(r.codec, c) || len(r.data) == 0 {
		return Raw{data: r.data, codec: c}, nil
	}
	v, err := r.value()
	if err != nil {
		return Raw{}, err
	}
	b, err := c.Marshal(v)
	if err != nil {
		return Raw{}, fmt.Errorf("rpc: converting a %s value to %s: %w", r.codec.Name(), c.Name(), err)
	}
	return Raw{data: b, codec: c}, nil
}

// value decodes r into plain Go values, for encoding with another codec.
func (r Raw) value() (any, error) {
	if r.codec == nil {
		return nil, errors.New("rpc: a Raw value without a codec (bind it with NewRaw)")
	}
	var v any
	if r.codec.Name() == "json" {
		// Keep integers integers: another codec may tell them from floats.
		d := stdjson.NewDecoder(bytes.NewReader(r.data))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, fmt.Errorf("rpc: decoding a json value: %w", err)
		}
		return numbers(v), nil
	}
	if err := r.codec.Unmarshal(r.data, &v); err != nil {
		return nil, fmt.Errorf("rpc: decoding a %s value: %w", r.codec.Name(), err)
	}
	return v, nil
}

// numbers replaces the json.Numbers in v with int64, uint64 or float64.
func numbers(v any) any {
	switch x := v.(type) {
	case stdjson.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return u
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// MarshalJSON writes r as JSON: as it is when it is JSON, converted when
// it was encoded with another codec; an empty Raw is null.
func (r Raw) MarshalJSON() ([]byte, error) {
	switch {
	case len(r.data) == 0:
		return []byte("null"), nil
	case r.codec == nil:
		return nil, errors.New("rpc: a Raw value without a codec cannot be written as JSON (bind it with NewRaw)")
	case r.codec.Name() == "json":
		return r.data, nil
	}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	return stdjson.Marshal(v)
}

// UnmarshalJSON keeps a copy of the JSON value, bound to the JSON codec.
func (r *Raw) UnmarshalJSON(b []byte) error {
	r.data = append([]byte(nil), b...)
	r.codec = json.Codec{}
	return nil
}

// MarshalCBOR writes r as CBOR: as it is when it is CBOR (or has no codec,
// as one read by UnmarshalCBOR); any other codec's Raw must be converted
// first with [Raw.For].
func (r Raw) MarshalCBOR() ([]byte, error) {
	switch {
	case len(r.data) == 0:
		return []byte{0xf6}, nil // null
	case r.codec == nil || r.codec.Name() == "cbor":
		return r.data, nil
	}
	return nil, fmt.Errorf("rpc: a %s Raw value inside a CBOR value: convert it with Raw.For first", r.codec.Name())
}

// UnmarshalCBOR keeps a copy of the CBOR value. The core cannot name the
// CBOR codec, so the copy has none: see [Raw.Codec].
func (r *Raw) UnmarshalCBOR(b []byte) error {
	r.data = append([]byte(nil), b...)
	r.codec = nil
	return nil
}

// sameCodec reports whether a and b are the same codec; codecs of types
// that cannot be compared are never the same.
func sameCodec(a, b codec.Codec) bool {
	if a == nil || b == nil {
		return false
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
}

// bind gives r the codec c if it has none (one read by UnmarshalCBOR)
// and c is a CBOR codec.
func (r Raw) bind(c codec.Codec) Raw {
	if r.codec == nil && len(r.data) != 0 && c != nil && c.Name() == "cbor" {
		r.codec = c
	}
	return r
}
