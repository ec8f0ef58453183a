package cbor

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/parleyrpc/parley/codec"
)

// Reasons given in codec.Message.Invalid.
const (
	reasonNotMap        = "message must be a map"
	reasonKeyNotText    = "member names must be text"
	reasonDupJSONRPC    = "duplicate jsonrpc member"
	reasonDupMethod     = "duplicate method member"
	reasonDupParams     = "duplicate params member"
	reasonDupID         = "duplicate id member"
	reasonDupResult     = "duplicate result member"
	reasonDupError      = "duplicate error member"
	reasonNoVersion     = "missing jsonrpc version"
	reasonBadVersion    = `jsonrpc version must be "2.0"`
	reasonBadMethod     = "method must be a non-empty string"
	reasonMethodUTF8    = "method must be valid UTF-8"
	reasonBadParams     = "params must be an array or a map"
	reasonBadID         = "id must be a number, a string or null"
	reasonIDUTF8        = "id must be valid UTF-8"
	reasonBadError      = "error must be a map with an integer code and a text message"
	reasonNoMethod      = "missing method"
	reasonReqHasResult  = "request must not have a result or an error"
	reasonResultOrError = "response must have exactly one of result and error"
	reasonNoID          = "response must have an id"
)

// Bits for the envelope members seen in a message map.
const (
	seenJSONRPC = 1 << iota
	seenMethod
	seenParams
	seenID
	seenResult
	seenError
)

// Decode parses one message or a batch and appends the messages to dst.
//
// The whole input is first checked for well-formedness, at any depth (see
// the package documentation); a failure, trailing bytes included, is an
// error wrapping [codec.ErrParse] and dst is returned unchanged. A batch
// of more than [codec.MaxBatch] messages is refused with [codec.ErrBatch]. The envelope is then read by hand: Params, Result and
// Error.Data are sub-slices of data, not copies.
func (Codec) Decode(dst []codec.Message, data []byte) ([]codec.Message, bool, error) {
	if err := check(data, false); err != nil {
		return dst, false, fmt.Errorf("%w: %v", codec.ErrParse, err)
	}
	n0 := len(dst)
	h, off, ok := readHead(data, 0)
	if !ok {
		return dst, false, errMalformed
	}
	switch h.major {
	case majorArray:
		if h.arg > uint64(len(data)-off) {
			return dst, false, errMalformed
		}
		if h.arg > codec.MaxBatch {
			return dst, true, codec.ErrBatch
		}
		for i := uint64(0); i < h.arg; i++ {
			dst = append(dst, codec.Message{})
			if off, ok = decodeMessage(data, off, &dst[len(dst)-1]); !ok {
				clear(dst[n0:])
				return dst[:n0], false, errMalformed
			}
		}
		return dst, true, nil
	case majorMap:
		dst = append(dst, codec.Message{})
		if _, ok = decodeMessage(data, 0, &dst[len(dst)-1]); !ok {
			clear(dst[n0:])
			return dst[:n0], false, errMalformed
		}
		return dst, false, nil
	}
	return append(dst, codec.Message{Invalid: reasonNotMap}), false, nil
}

// errMalformed is returned if the envelope reader meets input the
// well-formedness check let through but the reader cannot follow; it is a
// safety net that should never be seen.
var errMalformed = fmt.Errorf("%w: malformed CBOR envelope", codec.ErrParse)

// decodeMessage reads the item at data[off:] into m, which must be zero,
// and returns the offset after the item. ok is false only when the item is
// not well-formed.
func decodeMessage(data []byte, off int, m *codec.Message) (next int, ok bool) {
	itemStart := off
	h, off, ok := readHead(data, off)
	if !ok {
		return off, false
	}
	if h.major != majorMap {
		m.Invalid = reasonNotMap
		return skip(data, itemStart)
	}
	if h.arg > uint64(len(data)-off)/2 {
		return off, false
	}

	var (
		seen             uint8
		invalid          string
		methodStart      int
		methodEnd        int
		params, result   []byte
		errCode          int64
		errMsg, errData  []byte
		errOK            bool
		keyStart, keyEnd int
	)
	for i := uint64(0); i < h.arg; i++ {
		kh, koff, ok := readHead(data, off)
		if !ok {
			return off, false
		}
		if kh.major != majorText {
			if invalid == "" {
				invalid = reasonKeyNotText
			}
			// Skip the key from its head, then its value.
			if off, ok = skip(data, off); !ok {
				return off, false
			}
			if off, ok = skip(data, off); !ok {
				return off, false
			}
			continue
		}
		if keyStart, keyEnd, ok = readString(data, koff, kh); !ok {
			return off, false
		}
		off = keyEnd
		var bit uint8
		var dup string
		switch string(data[keyStart:keyEnd]) {
		case "jsonrpc":
			bit, dup = seenJSONRPC, reasonDupJSONRPC
		case "method":
			bit, dup = seenMethod, reasonDupMethod
		case "params":
			bit, dup = seenParams, reasonDupParams
		case "id":
			bit, dup = seenID, reasonDupID
		case "result":
			bit, dup = seenResult, reasonDupResult
		case "error":
			bit, dup = seenError, reasonDupError
		default:
			if off, ok = skip(data, off); !ok {
				return off, false
			}
			continue
		}
		start := off
		if off, ok = skip(data, off); !ok {
			return off, false
		}
		if seen&bit != 0 {
			if invalid == "" {
				invalid = dup
			}
			continue
		}
		seen |= bit
		value := data[start:off:off]
		var reason string
		switch bit {
		case seenJSONRPC:
			if !isVersion(value) {
				reason = reasonBadVersion
			}
		case seenMethod:
			methodStart, methodEnd, reason = readMethod(data, start)
		case seenParams:
			if major := value[0] >> 5; major != majorArray && major != majorMap {
				reason = reasonBadParams
			}
			params = value
		case seenID:
			m.ID, reason = readID(data, start)
		case seenResult:
			result = value
		case seenError:
			errCode, errMsg, errData, errOK = readError(value)
			if !errOK {
				reason = reasonBadError
			}
		}
		if reason != "" && invalid == "" {
			invalid = reason
		}
	}
	next = off

	if invalid == "" {
		switch {
		case seen&seenJSONRPC == 0:
			invalid = reasonNoVersion
		case seen&seenMethod != 0:
			if seen&(seenResult|seenError) != 0 {
				invalid = reasonReqHasResult
			}
		case seen&(seenResult|seenError) == 0:
			invalid = reasonNoMethod
		case seen&(seenResult|seenError) == seenResult|seenError:
			invalid = reasonResultOrError
		case seen&seenID == 0:
			invalid = reasonNoID
		}
	}
	if invalid != "" {
		m.Invalid = invalid
		m.HadMethod = seen&seenMethod != 0
		return next, true
	}
	if seen&seenMethod != 0 {
		m.Method = string(data[methodStart:methodEnd])
		m.Params = params
		return next, true
	}
	if seen&seenResult != 0 {
		m.Result = result
		return next, true
	}
	m.Error = &codec.Error{Code: errCode, Message: string(errMsg), Data: errData}
	return next, true
}

// isVersion reports whether value, one complete item, is the text "2.0"
// (in any head length: CBOR does not require the shortest one).
func isVersion(value []byte) bool {
	if string(value) == "\x632.0" {
		return true
	}
	h, off, ok := readHead(value, 0)
	return ok && h.major == majorText && string(value[off:]) == "2.0"
}

// readMethod checks the method value at data[off:], already known to be a
// complete item, and returns its text bounds or a reason.
func readMethod(data []byte, off int) (start, end int, reason string) {
	h, off, ok := readHead(data, off)
	if !ok || h.major != majorText || h.arg == 0 {
		return 0, 0, reasonBadMethod
	}
	start, end, ok = readString(data, off, h)
	if !ok {
		return 0, 0, reasonBadMethod
	}
	if !utf8.Valid(data[start:end]) {
		return 0, 0, reasonMethodUTF8
	}
	return start, end, ""
}

// readID reads the id value at data[off:], already known to be a complete
// item. It returns the zero ID and a reason for an id of the wrong type.
func readID(data []byte, off int) (codec.ID, string) {
	h, off, ok := readHead(data, off)
	if !ok {
		return codec.ID{}, reasonBadID
	}
	switch h.major {
	case majorUint:
		if h.arg <= math.MaxInt64 {
			return codec.Int(int64(h.arg)), ""
		}
		return codec.Number(strconv.FormatUint(h.arg, 10)), ""
	case majorNeg:
		if h.arg <= math.MaxInt64 {
			return codec.Int(^int64(h.arg)), "" // -1-arg
		}
		if h.arg == math.MaxUint64 {
			return codec.Number("-18446744073709551616"), ""
		}
		return codec.Number("-" + strconv.FormatUint(h.arg+1, 10)), ""
	case majorText:
		start, end, ok := readString(data, off, h)
		if !ok {
			return codec.ID{}, reasonBadID
		}
		if !utf8.Valid(data[start:end]) {
			return codec.ID{}, reasonIDUTF8
		}
		return codec.String(string(data[start:end])), ""
	case majorSimple:
		switch h.ai {
		case aiNull:
			return codec.Null(), ""
		case aiFloat16, aiFloat32, aiFloat64:
			f := h.float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return codec.ID{}, reasonBadID
			}
			return codec.Number(strconv.FormatFloat(f, 'g', -1, 64)), ""
		}
	}
	return codec.ID{}, reasonBadID
}

// readError reads an error object, value being one complete item.
func readError(value []byte) (code int64, msg, data []byte, ok bool) {
	h, off, ok := readHead(value, 0)
	if !ok || h.major != majorMap || h.arg > uint64(len(value)-off)/2 {
		return 0, nil, nil, false
	}
	const (
		seenCode = 1 << iota
		seenMessage
		seenData
	)
	var seen uint8
	good := true
	for i := uint64(0); i < h.arg; i++ {
		kh, koff, ok := readHead(value, off)
		if !ok || kh.major != majorText {
			return 0, nil, nil, false
		}
		ks, ke, ok := readString(value, koff, kh)
		if !ok {
			return 0, nil, nil, false
		}
		start := ke
		if off, ok = skip(value, start); !ok {
			return 0, nil, nil, false
		}
		var bit uint8
		switch string(value[ks:ke]) {
		case "code":
			bit = seenCode
			vh, _, ok := readHead(value, start)
			switch {
			case !ok:
				good = false
			case vh.major == majorUint && vh.arg <= math.MaxInt64:
				code = int64(vh.arg)
			case vh.major == majorNeg && vh.arg <= math.MaxInt64:
				code = ^int64(vh.arg)
			default:
				good = false
			}
		case "message":
			bit = seenMessage
			vh, voff, ok := readHead(value, start)
			if !ok || vh.major != majorText {
				good = false
				break
			}
			ms, me, ok := readString(value, voff, vh)
			if !ok || !utf8.Valid(value[ms:me]) {
				good = false
				break
			}
			msg = value[ms:me]
		case "data":
			bit = seenData
			data = value[start:off:off]
		default:
			continue
		}
		if seen&bit != 0 {
			good = false
		}
		seen |= bit
	}
	if !good || seen&(seenCode|seenMessage) != seenCode|seenMessage {
		return 0, nil, nil, false
	}
	return code, msg, data, true
}
