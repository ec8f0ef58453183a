package cbor

import (
	"errors"

	"github.com/parleyrpc/parley/codec"
)

// Errors of check for input that is not one well-formed CBOR item of the
// kinds this package takes. Decode wraps them in codec.ErrParse.
var (
	errTruncated = errors.New("cbor: unexpected end of data")
	errIndef     = errors.New("cbor: indefinite-length items are not allowed")
	errReserved  = errors.New("cbor: reserved additional information")
	errTag       = errors.New("cbor: tags are not allowed")
	errSimple    = errors.New("cbor: two-byte simple value below 32")
	errTrailing  = errors.New("cbor: extraneous data after the item")
)

// check reports whether data is exactly one well-formed CBOR item with
// definite lengths and no tags: nil, or one of the errors above. With
// limits, it also returns codec.ErrDepth or codec.ErrItems as soon as the
// item goes beyond codec.MaxDepth or codec.MaxItems, counting as the JSON
// codec does: [1] is one level, [[]] two; each array element and each map
// pair is one item, at every level.
//
// It walks without recursion, so that no nesting, however deep, costs
// stack: it counts the items still owed (every owed item needs a byte, so
// a forged count fails at once), and with limits remembers, for each open
// container, the count at which it ends: at most codec.MaxDepth of them.
func check(data []byte, limits bool) error {
	var (
		ends    [codec.MaxDepth]uint64 // with limits: pending when each open container ends
		depth   int
		items   uint64
		pending uint64 = 1 // items owed
		off     int
	)
	for {
		var h head
		if off < len(data) && data[off]&0x1f < 24 {
			// A one-byte head, as most are: the argument is in it.
			h = head{major: data[off] >> 5, ai: data[off] & 0x1f, arg: uint64(data[off] & 0x1f)}
			off++
		} else {
			next, ok := 0, false
			if h, next, ok = readHead(data, off); !ok {
				return headError(data, off)
			}
			off = next
		}
		pending--
		rest := uint64(len(data) - off)
		switch h.major {
		case majorBytes, majorText:
			if h.arg > rest {
				return errTruncated
			}
			off += int(h.arg)
			rest -= h.arg
		case majorArray, majorMap:
			owed := h.arg
			if h.major == majorMap {
				if owed > rest/2 {
					return errTruncated
				}
				owed *= 2
			}
			if owed > rest {
				return errTruncated
			}
			if limits {
				if depth == codec.MaxDepth {
					return codec.ErrDepth
				}
				if items += h.arg; items > codec.MaxItems {
					return codec.ErrItems
				}
				if owed > 0 {
					ends[depth] = pending
					depth++
				}
			}
			pending += owed
		case majorTag:
			return errTag
		case majorSimple:
			if h.ai == 24 && h.arg < 32 {
				return errSimple
			}
		}
		if limits {
			for depth > 0 && pending == ends[depth-1] {
				depth-- // the container's last item has ended
			}
		}
		if pending == 0 {
			if off != len(data) {
				return errTrailing
			}
			return nil
		}
		if pending > rest {
			return errTruncated // each owed item needs a byte
		}
	}
}

// headError says why readHead refused the head at data[off:].
func headError(data []byte, off int) error {
	if off >= len(data) {
		return errTruncated
	}
	switch data[off] & 0x1f {
	case 28, 29, 30:
		return errReserved
	case 31:
		return errIndef
	}
	return errTruncated
}
