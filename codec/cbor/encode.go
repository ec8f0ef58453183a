package cbor

import (
	"errors"
	"math"
	"strconv"

	"github.com/parleyrpc/parley/codec"
)

// Encoded envelope keys and the version value, each a complete text item.
const (
	encJSONRPC = "\x67jsonrpc" + "\x632.0" // key and value
	encMethod  = "\x66method"
	encParams  = "\x66params"
	encID      = "\x62id"
	encResult  = "\x66result"
	encError   = "\x65error"
	encCode    = "\x64code"
	encMessage = "\x67message"
	encData    = "\x64data"
)

// AppendMessage appends the CBOR encoding of m to dst. A message with a
// Method is a request (a notification when its ID is zero) and its Result
// and Error are ignored; any other message is a response, carrying Error
// when it is set and otherwise Result (null when Result is empty), with a
// null id when its ID is zero. This is the same reading of m as the JSON
// codec's.
//
// Params, Result and Error.Data are copied as they are: they must each hold
// exactly one CBOR item, as made by [Codec.Marshal] or [Codec.AppendValue];
// an empty slice counts as absent. They may lie in dst itself, below
// len(dst) (a result appended to dst first, say): the envelope goes after
// them. Invalid is ignored. AppendMessage allocates nothing when dst has
// room. The only error is a Number id that no CBOR number can carry (one
// outside the float64 range); dst is then returned unchanged.
func (Codec) AppendMessage(dst []byte, m *codec.Message) ([]byte, error) {
	n0 := len(dst)
	var err error
	if m.Method != "" {
		pairs := uint64(2)
		if len(m.Params) != 0 {
			pairs++
		}
		if !m.ID.IsZero() {
			pairs++
		}
		dst = appendHead(dst, majorMap, pairs)
		dst = append(dst, encJSONRPC...)
		dst = append(dst, encMethod...)
		dst = appendText(dst, m.Method)
		if len(m.Params) != 0 {
			dst = append(dst, encParams...)
			dst = append(dst, m.Params...)
		}
		if !m.ID.IsZero() {
			dst = append(dst, encID...)
			if dst, err = appendID(dst, m.ID); err != nil {
				return dst[:n0], err
			}
		}
		return dst, nil
	}

	dst = append(dst, majorMap<<5|3)
	dst = append(dst, encJSONRPC...)
	switch {
	case m.Error != nil:
		e := m.Error
		dst = append(dst, encError...)
		if len(e.Data) != 0 {
			dst = append(dst, majorMap<<5|3)
		} else {
			dst = append(dst, majorMap<<5|2)
		}
		dst = append(dst, encCode...)
		dst = appendInt(dst, e.Code)
		dst = append(dst, encMessage...)
		dst = appendText(dst, e.Message)
		if len(e.Data) != 0 {
			dst = append(dst, encData...)
			dst = append(dst, e.Data...)
		}
	case len(m.Result) != 0:
		dst = append(dst, encResult...)
		dst = append(dst, m.Result...)
	default:
		dst = append(dst, encResult...)
		dst = append(dst, cborNull)
	}
	dst = append(dst, encID...)
	if m.ID.IsZero() {
		return append(dst, cborNull), nil
	}
	if dst, err = appendID(dst, m.ID); err != nil {
		return dst[:n0], err
	}
	return dst, nil
}

// AppendBatch appends a CBOR array holding the already encoded messages.
func (Codec) AppendBatch(dst []byte, encoded [][]byte) []byte {
	dst = appendHead(dst, majorArray, uint64(len(encoded)))
	for _, e := range encoded {
		dst = append(dst, e...)
	}
	return dst
}

// appendID appends a non-zero id.
func appendID(dst []byte, id codec.ID) ([]byte, error) {
	if n, ok := id.Int(); ok {
		return appendInt(dst, n), nil
	}
	if s, ok := id.Str(); ok {
		return appendText(dst, s), nil
	}
	if id.IsNull() {
		return append(dst, cborNull), nil
	}
	lit, _ := id.NumberLiteral()
	return appendNumber(dst, lit)
}

// appendNumber appends the number id literal lit: as a CBOR integer when it
// is an integer in CBOR's range (-2^64 .. 2^64-1), else as a float64.
func appendNumber(dst []byte, lit string) ([]byte, error) {
	digits, neg := lit, false
	if len(lit) > 0 && lit[0] == '-' {
		digits, neg = lit[1:], true
	}
	if isDigits(digits) {
		u, err := strconv.ParseUint(digits, 10, 64)
		switch {
		case err == nil && !neg:
			return appendHead(dst, majorUint, u), nil
		case err == nil && u == 0: // "-0"
			return appendHead(dst, majorUint, 0), nil
		case err == nil:
			return appendHead(dst, majorNeg, u-1), nil
		case neg && trimZeros(digits) == "18446744073709551616": // -2^64
			return appendHead(dst, majorNeg, math.MaxUint64), nil
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, errors.New("codec/cbor: id " + strconv.Quote(lit) + " is not a representable number")
	}
	return appendFloat64(dst, f), nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
