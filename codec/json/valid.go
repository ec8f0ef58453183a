package json

import (
	"errors"

	"github.com/parleyrpc/parley/codec"
)

// errSyntax is check's verdict on input that is not one JSON value.
var errSyntax = errors.New("json: invalid JSON")

// valid reports whether data is one JSON value, with optional white space
// around it, by the same rules as encoding/json's Valid (strings may hold
// any byte from 0x20 up, valid UTF-8 or not), except that it puts no bound
// on nesting: encoding/json's Valid refuses more than 10,000 levels, but
// valid walks without recursion, so depth costs it nothing but a bit per
// level, and depth is a limit on decoding values (codec.MaxDepth), which
// Unmarshal applies.
func valid(data []byte) bool { return check(data, false) == nil }

// check reports whether data is one JSON value: nil, or errSyntax. With
// limits, it returns codec.ErrDepth as soon as data nests deeper than
// codec.MaxDepth, and codec.ErrItems for a valid value holding more than
// codec.MaxItems elements and members. Items are counted where the scan
// branches anyway (a container's first element, each comma) and compared
// once at the end, so that counting costs valid, which every inbound
// message goes through, next to nothing.
//
// It is written out by hand, without encoding/json's per-byte state
// function calls, because every inbound message goes through it; it
// allocates nothing up to codec.MaxDepth levels of nesting
// (BenchmarkValid compares it with encoding/json's).
func check(data []byte, limits bool) error {
	// inObject has bit d set when the container at depth d is an object.
	// It starts small, on the stack (a big frame costs every caller on a
	// goroutine whose stack must grow to hold it), and grows on the heap
	// for deeply nested input.
	var small [3]uint64 // codec.MaxDepth levels fit
	inObject := small[:]
	depth, items := 0, 0
	i := skipWS(data, 0)
	for {
		// A value starts at i.
		if i >= len(data) {
			return errSyntax
		}
		switch c := data[i]; c {
		case '{', '[':
			if limits && depth == codec.MaxDepth {
				return codec.ErrDepth
			}
			depth++
			if depth/64 == len(inObject) {
				inObject = append(inObject, 0)
			}
			if c == '{' {
				inObject[depth/64] |= 1 << (depth % 64)
			} else {
				inObject[depth/64] &^= 1 << (depth % 64)
			}
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			i = skipWS(data, i+1)
			if i < len(data) && data[i] == closer { // empty
				depth--
				i++
				break
			}
			items++ // the first element or member; each comma adds one more
			if c == '{' {
				if i = objectKey(data, i); i < 0 {
					return errSyntax
				}
			}
			continue
		case '"':
			if i = stringEnd(data, i); i < 0 {
				return errSyntax
			}
		case 't':
			if i = literal(data, i, "true"); i < 0 {
				return errSyntax
			}
		case 'f':
			if i = literal(data, i, "false"); i < 0 {
				return errSyntax
			}
		case 'n':
			if i = literal(data, i, "null"); i < 0 {
				return errSyntax
			}
		default:
			if i = numberEnd(data, i); i < 0 {
				return errSyntax
			}
		}
		// A value ended before i: close containers, or go on to the next
		// element.
		for {
			i = skipWS(data, i)
			if depth == 0 {
				switch {
				case i != len(data):
					return errSyntax
				case limits && items > codec.MaxItems:
					return codec.ErrItems
				}
				return nil
			}
			if i >= len(data) {
				return errSyntax
			}
			obj := inObject[depth/64]&(1<<(depth%64)) != 0
			c := data[i]
			if c == ',' {
				items++
				i = skipWS(data, i+1)
				if obj {
					if i = objectKey(data, i); i < 0 {
						return errSyntax
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				depth--
				i++
				continue
			}
			return errSyntax
		}
	}
}

// skipWS returns the index of the first byte at or after i that is not
// JSON white space.
func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// objectKey checks a member's key and colon at i, and returns the index of
// its value, or -1.
func objectKey(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	if i = stringEnd(data, i); i < 0 {
		return -1
	}
	i = skipWS(data, i)
	if i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipWS(data, i+1)
}

// stringEnd checks the string starting at i (its opening quote) and
// returns the index just past it, or -1.
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(data) {
				return -1
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return -1
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal checks that lit is at i and returns the index past it, or -1.
func literal(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// numberEnd checks the number starting at i and returns the index past
// it, or -1: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(data []byte, i int) int {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data):
		return -1
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		i = digits(data, i+1)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// digits returns the index of the first non-digit at or after i.
func digits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}
