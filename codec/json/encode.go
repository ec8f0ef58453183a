package json

import (
	"strconv"
	"unicode/utf8"

	"github.com/parleyrpc/parley/codec"
)

// AppendMessage appends m in the specification's layout: for requests
// jsonrpc, method, params, id; for responses jsonrpc, result or error, id.
func (Codec) AppendMessage(dst []byte, m *codec.Message) ([]byte, error) {
	dst = append(dst, `{"jsonrpc": "2.0", `...)
	if m.Method != "" {
		dst = append(dst, `"method": `...)
		dst = appendString(dst, m.Method)
		if m.Params != nil {
			dst = append(dst, `, "params": `...)
			dst = append(dst, m.Params...)
		}
		if !m.ID.IsZero() {
			dst = append(dst, `, "id": `...)
			dst = appendID(dst, m.ID)
		}
		return append(dst, '}'), nil
	}
	if e := m.Error; e != nil {
		dst = append(dst, `"error": {"code": `...)
		dst = strconv.AppendInt(dst, e.Code, 10)
		dst = append(dst, `, "message": `...)
		dst = appendString(dst, e.Message)
		if e.Data != nil {
			dst = append(dst, `, "data": `...)
			dst = append(dst, e.Data...)
		}
		dst = append(dst, '}')
	} else {
		dst = append(dst, `"result": `...)
		if m.Result == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, m.Result...)
		}
	}
	dst = append(dst, `, "id": `...)
	dst = appendID(dst, m.ID)
	return append(dst, '}'), nil
}

// AppendBatch appends the encoded messages as a JSON array.
func (Codec) AppendBatch(dst []byte, encoded [][]byte) []byte {
	dst = append(dst, '[')
	for i, e := range encoded {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, e...)
	}
	return append(dst, ']')
}

// appendID writes id; a zero id in a response is written as null.
func appendID(dst []byte, id codec.ID) []byte {
	if n, ok := id.Int(); ok {
		return strconv.AppendInt(dst, n, 10)
	}
	if s, ok := id.Str(); ok {
		return appendString(dst, s)
	}
	if lit, ok := id.NumberLiteral(); ok {
		return append(dst, lit...)
	}
	return append(dst, "null"...)
}

const hex = "0123456789abcdef"

// appendString writes s as a JSON string, byte for byte as encoding/json
// does with HTML escaping off: invalid UTF-8 becomes U+FFFD, U+2028 and
// U+2029 are escaped, HTML characters are left alone.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // escaped by encoding/json, for JSONP's sake
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
