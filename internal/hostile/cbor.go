package hostile

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// A small CBOR writer, so that the corpus can say exactly which bytes go
// out, including the ones no encoder would write (duplicate keys,
// indefinite lengths, forged lengths, tags, non-shortest heads).

// CBOR major types.
const (
	cUint  = 0
	cNeg   = 1
	cBytes = 2
	cText  = 3
	cArray = 4
	cMap   = 5
	cTag   = 6
)

// chead is the shortest head for major type major and argument n.
func chead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= math.MaxUint8:
		return []byte{m | 24, byte(n)}
	case n <= math.MaxUint16:
		return []byte{m | 25, byte(n >> 8), byte(n)}
	case n <= math.MaxUint32:
		return []byte{m | 26, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func ctext(s string) []byte { return append(chead(cText, uint64(len(s))), s...) }

func cbytes(s string) []byte { return append(chead(cBytes, uint64(len(s))), s...) }

func cint(n int64) []byte {
	if n >= 0 {
		return chead(cUint, uint64(n))
	}
	return chead(cNeg, uint64(^n))
}

// cat joins byte slices.
func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// carr is a definite-length array of the given items.
func carr(items ...[]byte) []byte {
	return cat(append([][]byte{chead(cArray, uint64(len(items)))}, items...)...)
}

// cmap is a definite-length map of the given keys and values, alternating.
func cmap(kv ...[]byte) []byte {
	return cat(append([][]byte{chead(cMap, uint64(len(kv)/2))}, kv...)...)
}

var (
	cNull      = []byte{0xf6}
	cTrue      = []byte{0xf5}
	cUndefined = []byte{0xf7}
	cVersion   = ctext("2.0")
)

func cfloat64(f float64) []byte {
	return binary.BigEndian.AppendUint64([]byte{0xfb}, math.Float64bits(f))
}

// cmsg is a message map with "jsonrpc": "2.0" and the members given (nil
// leaves one out).
func cmsg(method, params, id []byte) []byte {
	kv := [][]byte{ctext("jsonrpc"), cVersion}
	if method != nil {
		kv = append(kv, ctext("method"), method)
	}
	if params != nil {
		kv = append(kv, ctext("params"), params)
	}
	if id != nil {
		kv = append(kv, ctext("id"), id)
	}
	return cmap(kv...)
}

// fixed returns a builder of b.
func fixed(b []byte) func() []byte { return func() []byte { return b } }

// lazy returns a builder that calls f when the case runs.
func lazy(f func() []byte) func() []byte { return f }

// cnested is depth nested one-element arrays around inner.
func cnested(depth int, inner []byte) []byte {
	b := make([]byte, 0, depth+len(inner))
	for range depth {
		b = append(b, 0x81)
	}
	return append(b, inner...)
}

// cdeep is depth maps nested in one another, {"a":{"a":...1}}: a params
// value for keys, which has one key at every depth.
func cdeep(depth int) []byte {
	b := cint(1)
	for range depth {
		b = cmap(ctext("a"), b)
	}
	return b
}

// cones is an array of n ones.
func cones(n int) []byte {
	b := chead(cArray, uint64(n))
	for range n {
		b = append(b, 0x01)
	}
	return b
}

// ckeys is a map of n distinct text keys, each to 1.
func ckeys(n int) []byte {
	b := chead(cMap, uint64(n))
	for i := range n {
		b = append(b, ctext("k"+strconv.Itoa(i))...)
		b = append(b, 0x01)
	}
	return b
}

// cbatch is a batch of n messages made by item.
func cbatch(n int, item func(i int) []byte) func() []byte {
	return func() []byte {
		b := chead(cArray, uint64(n))
		for i := range n {
			b = append(b, item(i)...)
		}
		return b
	}
}

// cborOversize is a request exactly one byte over MaxMessageSize.
func cborOversize() []byte {
	// map(4) jsonrpc method id params: [ text(pad) ]
	prefix := cat(chead(cMap, 4), ctext("jsonrpc"), cVersion, ctext("method"), ctext("echo"),
		ctext("id"), cint(1), ctext("params"), chead(cArray, 1))
	pad := MaxMessageSize + 1 - len(prefix) - 5 // a text head of 5 bytes
	b := append(prefix, chead(cText, uint64(pad))...)
	return append(b, strings.Repeat("x", pad)...)
}

func cborCorpus() []Case {
	id := func(n int64) codec.ID { return codec.Int(n) }
	add := ctext("add")
	p12 := carr(cint(1), cint(2))
	three := func(i codec.ID) Want { return resultOf(i, 3) }
	req := func(method, params, idb []byte) func() []byte { return fixed(cmsg(method, params, idb)) }
	good := cmsg(add, p12, cint(1))
	longID := strings.Repeat("i", 64<<10)

	cases := []Case{
		// Bytes that are not well-formed CBOR, or break the documented
		// limits: -32700, id null.
		{"truncated map", fixed(good[:len(good)-1]), parseError},
		{"empty message", fixed(nil), parseError},
		{"only whitespace", fixed([]byte(" \t\r\n")), parseError},
		{"a lone break byte", fixed([]byte{0xff}), parseError},
		{"reserved additional information", fixed([]byte{0x1c}), parseError},
		{"trailing bytes", fixed(cat(good, []byte{0x00})), parseError},
		{"two messages glued together", fixed(cat(good, good)), parseError},
		{"JSON text on a CBOR connection", fixed([]byte(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}`)), parseError},
		{"indefinite-length map", fixed(cat([]byte{0xbf}, ctext("jsonrpc"), cVersion, ctext("method"), add, ctext("id"), cint(1), []byte{0xff})), parseError},
		{"indefinite-length params", req(add, []byte{0x9f, 0x01, 0x02, 0xff}, cint(1)), parseError},
		{"indefinite-length method", req([]byte{0x7f, 0x61, 'a', 0x62, 'd', 'd', 0xff}, p12, cint(1)), parseError},
		{"tag on params", req(add, cat([]byte{0xc1}, p12), cint(1)), parseError},
		{"bignum tag as id", req(add, p12, cat([]byte{0xc2}, cbytes("\x01\x00\x00\x00\x00\x00\x00\x00\x00"))), parseError},
		{"array claiming 2^32 elements", req(add, cat([]byte{0x9a, 0xff, 0xff, 0xff, 0xff}, cint(1)), cint(1)), parseError},
		{"text claiming 4 GiB", req([]byte{0x7a, 0xff, 0xff, 0xff, 0xff, 'a'}, p12, cint(1)), parseError},
		{"map claiming 2^64-1 pairs", fixed([]byte{0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x60, 0x60}), parseError},

		// Well-formed, but not a valid request: -32600.
		{"an integer", fixed(cint(42)), invalid(null)},
		{"null", fixed(cNull), invalid(null)},
		{"a text string", fixed(ctext("hello")), invalid(null)},
		{"an empty map", fixed(cmap()), invalid(null)},
		{"jsonrpc missing", fixed(cmap(ctext("method"), add, ctext("params"), p12, ctext("id"), cint(10))), invalid(id(10))},
		{`jsonrpc "1.0"`, fixed(cmap(ctext("jsonrpc"), ctext("1.0"), ctext("method"), add, ctext("id"), cint(11))), invalid(id(11))},
		{"jsonrpc a byte string", fixed(cmap(ctext("jsonrpc"), cbytes("2.0"), ctext("method"), add, ctext("id"), cint(12))), invalid(id(12))},
		{"jsonrpc a float", fixed(cmap(ctext("jsonrpc"), cfloat64(2), ctext("method"), add, ctext("id"), cint(112))), invalid(id(112))},
		{"method an integer", req(cint(5), p12, cint(13)), invalid(id(13))},
		{"method null", req(cNull, p12, cint(14)), invalid(id(14))},
		{"method empty", req(ctext(""), p12, cint(15)), invalid(id(15))},
		{"method a byte string", req(cbytes("add"), p12, cint(16)), invalid(id(16))},
		{"method with invalid UTF-8", req(ctext("add\xff"), p12, cint(17)), invalid(id(17))},
		{"params a text string", req(add, ctext("1,2"), cint(18)), invalid(id(18))},
		{"params an integer", req(add, cint(3), cint(19)), invalid(id(19))},
		{"params null", req(add, cNull, cint(20)), invalid(id(20))},
		{"id a map", req(add, p12, cmap(ctext("n"), cint(1))), invalid(null)},
		{"id an array", req(add, p12, carr(cint(1))), invalid(null)},
		{"id a boolean", req(add, p12, cTrue), invalid(null)},
		{"id undefined", req(add, p12, cUndefined), invalid(null)},
		{"id NaN", req(add, p12, cfloat64(math.NaN())), invalid(null)},
		{"id infinite", req(add, p12, []byte{0xf9, 0x7c, 0x00}), invalid(null)},
		{"id a byte string", req(add, p12, cbytes("abc")), invalid(null)},
		{"id nested 1,000 levels deep", req(add, p12, cnested(1000, cint(1))), invalid(null)},
		{"id with invalid UTF-8", req(add, p12, ctext("a\xff")), invalid(null)},
		{"duplicate method key", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("method"), add, ctext("method"), ctext("rpc.x"),
			ctext("params"), p12, ctext("id"), cint(21))), invalid(id(21))},
		{"duplicate jsonrpc key", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("jsonrpc"), ctext("1.0"), ctext("method"), add,
			ctext("id"), cint(22))), invalid(id(22))},
		{"duplicate params key", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("method"), add, ctext("params"), p12,
			ctext("params"), cmap(), ctext("id"), cint(23))), invalid(id(23))},
		{"duplicate id key", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("method"), add, ctext("params"), p12,
			ctext("id"), cint(24), ctext("id"), cint(25))), Want{Kind: Answer, Code: rpc.CodeInvalidRequest, AnyID: true}},
		{"an integer key", fixed(cmap(ctext("jsonrpc"), cVersion, cint(1), cint(2), ctext("method"), add, ctext("id"), cint(26))), invalid(id(26))},
		{"request with a result", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("method"), add, ctext("result"), cint(1),
			ctext("id"), cint(27))), invalid(id(27))},
		{"response without an id", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("result"), cint(1))), invalid(null)},
		{"response with result and error", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("result"), cint(1),
			ctext("error"), cmap(ctext("code"), cint(1), ctext("message"), ctext("x")), ctext("id"), cint(28))), invalid(null)}, // a broken response
		{"error member not a map", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("error"), ctext("bad"), ctext("id"), cint(29))), invalid(null)}, // a broken response: its id is not one to answer with
		{"empty batch", fixed(carr()), invalid(null)},
		{"cancel with params a text string", req(ctext("$/cancelRequest"), ctext("7"), nil), invalid(null)},

		// -32601.
		{"unknown method", req(ctext("nope"), p12, cint(30)), errorOf(rpc.CodeMethodNotFound, id(30))},
		{`reserved "rpc." method`, req(ctext("rpc.discover"), nil, cint(31)), errorOf(rpc.CodeMethodNotFound, id(31))},
		{`reserved "$/" method`, req(ctext("$/foo"), p12, cint(32)), errorOf(rpc.CodeMethodNotFound, id(32))},
		{"method name of 1 MiB", lazy(func() []byte { return cmsg(ctext(strings.Repeat("m", 1<<20)), p12, cint(34)) }),
			errorOf(rpc.CodeMethodNotFound, id(34))},
		{"method with a NUL", req(ctext("add\x00"), p12, cint(35)), errorOf(rpc.CodeMethodNotFound, id(35))},
		{"method in another case", req(ctext("ADD"), p12, cint(36)), errorOf(rpc.CodeMethodNotFound, id(36))},

		// -32602.
		{"map params for positional ones", req(add, cmap(ctext("a"), cint(1)), cint(40)), errorOf(rpc.CodeInvalidParams, id(40))},
		{"text for numbers", req(add, carr(ctext("1"), ctext("2")), cint(41)), errorOf(rpc.CodeInvalidParams, id(41))},
		{"a fraction for an int", req(add, carr(cfloat64(1.5)), cint(42)), errorOf(rpc.CodeInvalidParams, id(42))},
		{"a number overflowing int", req(add, carr(chead(cUint, math.MaxUint64)), cint(43)), errorOf(rpc.CodeInvalidParams, id(43))},
		// Params beyond the decoding limits (codec.MaxDepth, codec.MaxItems):
		// -32602, with the id.
		{"nesting 100,000 levels deep", lazy(func() []byte { return cmsg(add, cnested(100_000, cint(1)), cint(44)) }), errorOf(rpc.CodeInvalidParams, id(44))},
		{"nesting one level over the limit", fixed(cmsg(ctext("keys"), cdeep(codec.MaxDepth+1), cint(80))), errorOf(rpc.CodeInvalidParams, id(80))},
		{"array of 1,000,000 elements", lazy(func() []byte { return cmsg(add, cones(1_000_000), cint(50)) }), errorOf(rpc.CodeInvalidParams, id(50))},
		{"array one element over the limit", lazy(func() []byte { return cmsg(add, cones(codec.MaxItems+1), cint(81)) }), errorOf(rpc.CodeInvalidParams, id(81))},
		{"map one key over the limit", lazy(func() []byte { return cmsg(ctext("keys"), ckeys(codec.MaxItems+1), cint(82)) }), errorOf(rpc.CodeInvalidParams, id(82))},
		{"one item over the limit over two levels", lazy(func() []byte { return cmsg(ctext("keys"), cmap(ctext("a"), cones(codec.MaxItems)), cint(83)) }), errorOf(rpc.CodeInvalidParams, id(83))},
		{"array params for named ones", req(ctext("keys"), carr(cint(1)), cint(45)), errorOf(rpc.CodeInvalidParams, id(45))},
		{"a boolean for an int", req(add, carr(cTrue), cint(46)), errorOf(rpc.CodeInvalidParams, id(46))},
		{"duplicate keys in params", req(ctext("keys"), cmap(ctext("a"), cint(1), ctext("a"), cint(2)), cint(52)), errorOf(rpc.CodeInvalidParams, id(52))},
		{"integer keys in params", req(ctext("keys"), cmap(cint(1), cint(1)), cint(53)), errorOf(rpc.CodeInvalidParams, id(53))},
		{"invalid UTF-8 in params", req(ctext("keys"), cmap(ctext("a\xff"), cint(1)), cint(54)), errorOf(rpc.CodeInvalidParams, id(54))},
		{"byte string for a text key", req(ctext("keys"), cmap(cbytes("a"), cint(1)), cint(55)), errorOf(rpc.CodeInvalidParams, id(55))},

		// Ids of every allowed type, echoed exactly.
		{"integer id", req(add, p12, cint(7)), three(id(7))},
		{"id zero", req(add, p12, cint(0)), three(id(0))},
		{"negative id", req(add, p12, cint(-7)), three(id(-7))},
		{"id 2^64-1", req(add, p12, chead(cUint, math.MaxUint64)), three(codec.Number("18446744073709551615"))},
		{"id -2^64", req(add, p12, chead(cNeg, math.MaxUint64)), three(codec.Number("-18446744073709551616"))},
		{"fractional id", req(add, p12, cfloat64(1.5)), three(codec.Number("1.5"))},
		{"half-precision id", req(add, p12, []byte{0xf9, 0x3e, 0x00}), three(codec.Number("1.5"))},
		{"single-precision id", req(add, p12, []byte{0xfa, 0x40, 0x20, 0x00, 0x00}), three(codec.Number("2.5"))},
		{"integer id with a long head", req(add, p12, []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, 7}), three(id(7))},
		{"string id", req(add, p12, ctext("abc")), three(codec.String("abc"))},
		{"empty string id", req(add, p12, ctext("")), three(codec.String(""))},
		{"string id of 64 KiB", req(add, p12, ctext(longID)), three(codec.String(longID))},
		{"null id", req(add, p12, cNull), three(null)},
		{`jsonrpc "2.0" with a long head`, fixed(cmap(ctext("jsonrpc"), []byte{0x78, 0x03, '2', '.', '0'}, ctext("method"), add,
			ctext("params"), p12, ctext("id"), cint(8))), three(id(8))},
		{"unknown keys", fixed(cmap(ctext("x"), cmap(ctext("y"), p12), ctext("jsonrpc"), cVersion, ctext("method"), add,
			ctext("params"), p12, ctext("id"), cint(9), ctext("z"), cNull)), three(id(9))},

		// Large but within the limits.
		{"nesting as deep as the limit", fixed(cmsg(ctext("keys"), cdeep(codec.MaxDepth), cint(84))), resultOf(id(84), 1)},
		{"array as long as the limit", lazy(func() []byte { return cmsg(add, cones(codec.MaxItems), cint(85)) }), resultOf(id(85), codec.MaxItems)},
		{"map as large as the limit", lazy(func() []byte { return cmsg(ctext("keys"), ckeys(codec.MaxItems), cint(51)) }), resultOf(id(51), codec.MaxItems)},

		// Nothing to answer.
		{"notification of an unknown method", req(ctext("nope"), p12, nil), noAnswer},
		{`notification of "rpc." method`, req(ctext("rpc.foo"), p12, nil), noAnswer},
		{`notification of "$/" method`, req(ctext("$/foo"), p12, nil), noAnswer},
		{"notification with bad params", req(add, cmap(ctext("a"), cint(1)), nil), noAnswer},
		{"cancel of an unknown id", req(ctext("$/cancelRequest"), cmap(ctext("id"), cint(424242)), nil), noAnswer},
		{"cancel with a map id", req(ctext("$/cancelRequest"), cmap(ctext("id"), cmap(ctext("deep"), carr(cint(1)))), nil), noAnswer},
		{"cancel without params", req(ctext("$/cancelRequest"), nil, nil), noAnswer},
		{"cancel with array params", req(ctext("$/cancelRequest"), carr(cint(1)), nil), noAnswer},
		{"result for no call", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("result"), cint(1), ctext("id"), cint(999))), noAnswer},
		{"error for no call", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("error"), cmap(ctext("code"), cint(-32000), ctext("message"), ctext("x")),
			ctext("id"), cint(998))), noAnswer},
		{"parse error response with id null", fixed(cmap(ctext("jsonrpc"), cVersion, ctext("error"),
			cmap(ctext("code"), cint(-32700), ctext("message"), ctext("x")), ctext("id"), cNull)), noAnswer},
		{"batch of notifications only", cbatch(3, func(int) []byte { return cmsg(ctext("nope"), p12, nil) }), noAnswer},
		{"batch of notifications as long as the limit", cbatch(codec.MaxBatch, func(int) []byte { return cmsg(ctext("nope"), nil, nil) }), noAnswer},

		{"cancel sent as a call", req(ctext("$/cancelRequest"), cmap(ctext("id"), cint(1)), cint(60)), Want{Kind: Answer, ID: id(60), NullResult: true}},

		// Batches.
		{"batch of garbage", fixed(carr(cint(1), ctext("x"), cNull, cmap(), carr())),
			batchOf(invalid(null), invalid(null), invalid(null), invalid(null), invalid(null))},
		{"batch nested in a batch", fixed(carr(carr(good))), batchOf(invalid(null))},
		{"batch of one", fixed(carr(cmsg(add, p12, cint(70)))), batchOf(three(id(70)))},
		{"batch with one id twice", fixed(carr(cmsg(add, p12, cint(71)), cmsg(add, p12, cint(71)))), batchOf(orRefusedAsDuplicate(three(id(71))), orRefusedAsDuplicate(three(id(71))))},
		{"batch mixing calls, notifications and garbage", fixed(carr(
			cmsg(add, p12, cint(72)),
			cmsg(add, p12, nil),
			cmsg(ctext("nope"), nil, cint(73)),
			cmap(ctext("foo"), ctext("boo")),
			cmsg(add, ctext("x"), cint(74)),
			cmsg(ctext("$/cancelRequest"), cmap(ctext("id"), cint(975)), nil),
		)), batchOf(three(id(72)), errorOf(rpc.CodeMethodNotFound, id(73)), invalid(null), invalid(id(74)))},
		{"batch of calls as long as the limit", cbatch(codec.MaxBatch, func(i int) []byte { return cmsg(add, p12, cint(int64(100_000+i))) }),
			batchOf(manyThrees(codec.MaxBatch)...)},
		// A batch beyond codec.MaxBatch: refused whole, -32600 with id null.
		{"batch one message over the limit", cbatch(codec.MaxBatch+1, func(i int) []byte { return cmsg(add, p12, cint(int64(200_000+i))) }), invalid(null)},
		{"batch of 70,000 notifications", cbatch(70_000, func(int) []byte { return cmsg(ctext("nope"), nil, nil) }), invalid(null)},

		{"one byte over the size limit", cborOversize, Want{Kind: Oversize}},
	}
	return cases
}
