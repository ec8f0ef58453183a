package json

// maxDepth is how deeply arrays and objects may nest, as in encoding/json,
// whose decoder refuses deeper input.
const maxDepth = 10000

// valid reports whether data is one JSON value, with optional white space
// around it, by the same rules as encoding/json's Valid, nesting limit
// included (strings may hold any byte from 0x20 up, valid UTF-8 or not).
// It is written out by hand, without encoding/json's per-byte state
// function calls, because every inbound message goes through it: it runs
// several times faster, and allocates nothing.
func valid(data []byte) bool {
	// inObject has bit d set when the container at depth d is an object.
	// It starts small, on the stack (a big frame costs every caller on a
	// goroutine whose stack must grow to hold it), and grows on the heap
	// for deeply nested input.
	var small [2]uint64
	inObject := small[:]
	depth := 0
	i := skipWS(data, 0)
	for {
		// A value starts at i.
		if i >= len(data) {
			return false
		}
		switch c := data[i]; c {
		case '{', '[':
			if depth == maxDepth {
				return false
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
			if c == '{' {
				if i = objectKey(data, i); i < 0 {
					return false
				}
			}
			continue
		case '"':
			if i = stringEnd(data, i); i < 0 {
				return false
			}
		case 't':
			if i = literal(data, i, "true"); i < 0 {
				return false
			}
		case 'f':
			if i = literal(data, i, "false"); i < 0 {
				return false
			}
		case 'n':
			if i = literal(data, i, "null"); i < 0 {
				return false
			}
		default:
			if i = numberEnd(data, i); i < 0 {
				return false
			}
		}
		// A value ended before i: close containers, or go on to the next
		// element.
		for {
			i = skipWS(data, i)
			if depth == 0 {
				return i == len(data)
			}
			if i >= len(data) {
				return false
			}
			obj := inObject[depth/64]&(1<<(depth%64)) != 0
			c := data[i]
			if c == ',' {
				i = skipWS(data, i+1)
				if obj {
					if i = objectKey(data, i); i < 0 {
						return false
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				depth--
				i++
				continue
			}
			return false
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
