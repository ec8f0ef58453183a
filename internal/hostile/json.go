package hostile

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// jsonMsg returns a builder of a JSON-RPC message from raw JSON fragments
// (method, params and id as they appear in the text); an empty fragment
// leaves the member out.
func jsonMsg(method, params, id string) func() []byte {
	return func() []byte { return appendJSONMsg(nil, method, params, id) }
}

func appendJSONMsg(b []byte, method, params, id string) []byte {
	b = append(b, `{"jsonrpc":"2.0"`...)
	if method != "" {
		b = append(b, `,"method":`...)
		b = append(b, method...)
	}
	if params != "" {
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	if id != "" {
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	return append(b, '}')
}

// text returns a builder of fixed bytes.
func text(s string) func() []byte { return func() []byte { return []byte(s) } }

// nested returns depth opening brackets, inner, then depth closing ones.
func nested(depth int, inner string) string {
	return strings.Repeat("[", depth) + inner + strings.Repeat("]", depth)
}

// jsonDeep is depth objects nested in one another, {"a":{"a":...1}}: a
// params value for keys, which has one key at every depth.
func jsonDeep(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// jsonOnes is a JSON array of n ones.
func jsonOnes(n int) string {
	var b strings.Builder
	b.Grow(2*n + 1)
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('1')
	}
	b.WriteByte(']')
	return b.String()
}

// jsonKeys is a JSON object of n distinct keys.
func jsonKeys(n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"k`)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`":1`)
	}
	b.WriteByte('}')
	return b.String()
}

// jsonBatch joins n messages made by item into a batch.
func jsonBatch(n int, item func(i int, b []byte) []byte) func() []byte {
	return func() []byte {
		b := []byte{'['}
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = item(i, b)
		}
		return append(b, ']')
	}
}

// jsonOversize is a request exactly one byte over MaxMessageSize.
func jsonOversize() []byte {
	head := `{"jsonrpc":"2.0","method":"echo","id":1,"params":["`
	tail := `"]}`
	pad := MaxMessageSize + 1 - len(head) - len(tail)
	var b bytes.Buffer
	b.Grow(MaxMessageSize + 1)
	b.WriteString(head)
	b.Write(bytes.Repeat([]byte{'x'}, pad))
	b.WriteString(tail)
	return b.Bytes()
}

// Ids used by cases; a sum of [1,2] answers 3.
const (
	add12 = `"add"`
	p12   = `[1,2]`
)

func jsonCorpus() []Case {
	id := func(n int64) codec.ID { return codec.Int(n) }
	ids := func(n int64) string { return strconv.FormatInt(n, 10) }
	three := func(i codec.ID) Want { return resultOf(i, 3) }
	longID := strings.Repeat("i", 64<<10)
	digits := "1" + strings.Repeat("0", 999)

	cases := []Case{
		// Bytes that are not JSON: -32700, id null, connection up.
		{"truncated object", text(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1`), parseError},
		{"truncated inside a string", text(`{"jsonrpc":"2.0","method":"ad`), parseError},
		{"binary garbage", text("\x00\xff\xfe garbage \x01\x02"), parseError},
		{"empty message", text(""), parseError},
		{"only whitespace", text(" \t\r\n  "), parseError},
		{"two messages glued together", func() []byte {
			m := jsonMsg(add12, p12, "1")()
			return append(m, m...)
		}, parseError},
		{"trailing comma", text(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1,}`), parseError},
		{"single quotes", text(`{'jsonrpc':'2.0','method':'add','id':1}`), parseError},
		{"byte order mark", func() []byte { return append([]byte("\xef\xbb\xbf"), jsonMsg(add12, p12, "1")()...) }, parseError},
		{"NaN literal", jsonMsg(add12, `[NaN]`, "1"), parseError},
		{"raw control character in a string", jsonMsg("\"a\x01dd\"", p12, "1"), parseError},
		{"unterminated batch", text(`[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1},`), parseError},

		// JSON, but not a valid request: -32600, with the id if it was read.
		{"a number", text(`42`), invalid(null)},
		{"null", text(`null`), invalid(null)},
		{"a string", text(`"hello"`), invalid(null)},
		{"an empty object", text(`{}`), invalid(null)},
		{"jsonrpc missing", text(`{"method":"add","params":[1,2],"id":10}`), invalid(id(10))},
		{`jsonrpc "1.0"`, text(`{"jsonrpc":"1.0","method":"add","params":[1,2],"id":11}`), invalid(id(11))},
		{"jsonrpc a number", text(`{"jsonrpc":2.0,"method":"add","params":[1,2],"id":12}`), invalid(id(12))},
		{"method a number", jsonMsg(`5`, p12, "13"), invalid(id(13))},
		{"method null", jsonMsg(`null`, p12, "14"), invalid(id(14))},
		{"method empty", jsonMsg(`""`, p12, "15"), invalid(id(15))},
		{"method an object", jsonMsg(`{"name":"add"}`, p12, "16"), invalid(id(16))},
		{"params a string", jsonMsg(add12, `"1,2"`, "17"), invalid(id(17))},
		{"params a number", jsonMsg(add12, `3`, "18"), invalid(id(18))},
		{"params null", jsonMsg(add12, `null`, "19"), invalid(id(19))},
		{"id an object", jsonMsg(add12, p12, `{"n":1}`), invalid(null)},
		{"id an array", jsonMsg(add12, p12, `[1]`), invalid(null)},
		{"id a boolean", jsonMsg(add12, p12, `true`), invalid(null)},
		{"id nested 1,000 levels deep", jsonMsg(add12, p12, nested(1000, "1")), invalid(null)},
		{"duplicate method member", text(`{"jsonrpc":"2.0","method":"add","method":"rpc.x","params":[1,2],"id":20}`), invalid(id(20))},
		{"duplicate jsonrpc member", text(`{"jsonrpc":"2.0","jsonrpc":"1.0","method":"add","params":[1,2],"id":21}`), invalid(id(21))},
		{"duplicate params member", text(`{"jsonrpc":"2.0","method":"add","params":[1,2],"params":{"a":1},"id":22}`), invalid(id(22))},
		{"duplicate id member", text(`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":23,"id":24}`),
			Want{Kind: Answer, Code: rpc.CodeInvalidRequest, AnyID: true}},
		{"escaped member name", text(`{"jsonrpc":"2.0","\u006dethod":"add","params":[1,2],"id":25}`), invalid(id(25))},
		{"request with a result", text(`{"jsonrpc":"2.0","method":"add","result":1,"id":26}`), invalid(id(26))},
		{"response without an id", text(`{"jsonrpc":"2.0","result":1}`), invalid(null)},
		{"response with result and error", text(`{"jsonrpc":"2.0","result":1,"error":{"code":1,"message":"x"},"id":27}`), invalid(null)}, // a broken response: its id is the receiver's, not one to answer with
		{"error member not an object", text(`{"jsonrpc":"2.0","error":"bad","id":28}`), invalid(null)},                                   // a broken response: its id is the receiver's, not one to answer with
		{"error code a word", text(`{"jsonrpc":"2.0","error":{"code":"one","message":"x"},"id":29}`), invalid(null)},                     // a broken response: its id is the receiver's, not one to answer with
		{"error code a fraction", text(`{"jsonrpc":"2.0","error":{"code":1.5,"message":"x"},"id":129}`), invalid(null)},                  // a broken response: its id is the receiver's, not one to answer with
		{"empty batch", text(`[]`), invalid(null)},
		{"cancel with params a string", jsonMsg(`"$/cancelRequest"`, `"7"`, ""), invalid(null)},

		// Methods that do not exist, or belong to the protocol: -32601.
		{"unknown method", jsonMsg(`"nope"`, p12, "30"), errorOf(rpc.CodeMethodNotFound, id(30))},
		{`reserved "rpc." method`, jsonMsg(`"rpc.discover"`, ``, "31"), errorOf(rpc.CodeMethodNotFound, id(31))},
		{`reserved "$/" method`, jsonMsg(`"$/foo"`, p12, "32"), errorOf(rpc.CodeMethodNotFound, id(32))},
		{"method with invalid UTF-8", jsonMsg("\"add\xff\"", p12, "33"), errorOf(rpc.CodeMethodNotFound, id(33))},
		{"method name of 1 MiB", jsonMsg(`"`+strings.Repeat("m", 1<<20)+`"`, p12, "34"), errorOf(rpc.CodeMethodNotFound, id(34))},
		{"method with an escaped NUL", jsonMsg(`"add\u0000"`, p12, "35"), errorOf(rpc.CodeMethodNotFound, id(35))},
		{"method in another case", jsonMsg(`"ADD"`, p12, "36"), errorOf(rpc.CodeMethodNotFound, id(36))},

		// Params of the wrong shape or type: -32602.
		{"object params for positional ones", jsonMsg(add12, `{"a":1,"b":2}`, "40"), errorOf(rpc.CodeInvalidParams, id(40))},
		{"strings for numbers", jsonMsg(add12, `["1","2"]`, "41"), errorOf(rpc.CodeInvalidParams, id(41))},
		{"a fraction for an int", jsonMsg(add12, `[1.5]`, "42"), errorOf(rpc.CodeInvalidParams, id(42))},
		{"a number overflowing int", jsonMsg(add12, `[99999999999999999999]`, "43"), errorOf(rpc.CodeInvalidParams, id(43))},
		// Params beyond the decoding limits (codec.MaxDepth, codec.MaxItems):
		// -32602, with the id.
		{"nesting 100,000 levels deep", jsonMsg(add12, nested(100_000, ""), "44"), errorOf(rpc.CodeInvalidParams, id(44))},
		{"nesting one level over the limit", jsonMsg(`"keys"`, jsonDeep(codec.MaxDepth+1), "80"), errorOf(rpc.CodeInvalidParams, id(80))},
		{"array of 1,000,000 elements", jsonMsg(add12, jsonOnes(1_000_000), "50"), errorOf(rpc.CodeInvalidParams, id(50))},
		{"array one element over the limit", jsonMsg(add12, jsonOnes(codec.MaxItems+1), "81"), errorOf(rpc.CodeInvalidParams, id(81))},
		{"map one key over the limit", jsonMsg(`"keys"`, jsonKeys(codec.MaxItems+1), "82"), errorOf(rpc.CodeInvalidParams, id(82))},
		{"one item over the limit over two levels", jsonMsg(`"keys"`, `{"a":`+jsonOnes(codec.MaxItems)+`}`, "83"), errorOf(rpc.CodeInvalidParams, id(83))},
		{"array params for named ones", jsonMsg(`"keys"`, `[1]`, "45"), errorOf(rpc.CodeInvalidParams, id(45))},
		{"a boolean for an int", jsonMsg(add12, `[true]`, "46"), errorOf(rpc.CodeInvalidParams, id(46))},

		// Valid requests with ids of every allowed type: answered, the id
		// echoed exactly.
		{"integer id", jsonMsg(add12, p12, "7"), three(id(7))},
		{"id zero", jsonMsg(add12, p12, "0"), three(id(0))},
		{"negative id", jsonMsg(add12, p12, "-7"), three(id(-7))},
		{"id beyond int64", jsonMsg(add12, p12, "123456789012345678901234567890"), three(codec.Number("123456789012345678901234567890"))},
		{"id of 1,000 digits", jsonMsg(add12, p12, digits), three(codec.Number(digits))},
		{"fractional id", jsonMsg(add12, p12, "1.5"), three(codec.Number("1.5"))},
		{"id with an exponent", jsonMsg(add12, p12, "1e3"), three(codec.Number("1e3"))},
		{"string id", jsonMsg(add12, p12, `"abc"`), three(codec.String("abc"))},
		{"empty string id", jsonMsg(add12, p12, `""`), three(codec.String(""))},
		{"string id with escapes", jsonMsg(add12, p12, `"a\"b\\c\u00e9"`), three(codec.String("a\"b\\c\u00e9"))},
		{"string id of 64 KiB", jsonMsg(add12, p12, `"`+longID+`"`), three(codec.String(longID))},
		{"null id", jsonMsg(add12, p12, "null"), three(null)},
		{"method spelled with an escape", jsonMsg(`"\u0061dd"`, p12, "8"), three(id(8))},
		{"unknown members", text(`{"jsonrpc":"2.0","x":{"y":[1,2]},"method":"add","params":[1,2],"id":9,"z":null}`), three(id(9))},

		// Large but within the limits: served.
		{"nesting as deep as the limit", jsonMsg(`"keys"`, jsonDeep(codec.MaxDepth), "84"), resultOf(id(84), 1)},
		{"array as long as the limit", jsonMsg(add12, jsonOnes(codec.MaxItems), "85"), resultOf(id(85), codec.MaxItems)},
		{"map as large as the limit", jsonMsg(`"keys"`, jsonKeys(codec.MaxItems), "51"), resultOf(id(51), codec.MaxItems)},
		// encoding/json keeps the last of duplicate keys in params.
		{"duplicate keys in params", jsonMsg(`"keys"`, `{"a":1,"a":2}`, "52"), resultOf(id(52), 1)},

		// Nothing to answer: notifications, and responses to no call.
		{"notification of an unknown method", jsonMsg(`"nope"`, p12, ""), noAnswer},
		{`notification of "rpc." method`, jsonMsg(`"rpc.foo"`, p12, ""), noAnswer},
		{`notification of "$/" method`, jsonMsg(`"$/foo"`, p12, ""), noAnswer},
		{"notification with bad params", jsonMsg(add12, `{"a":1}`, ""), noAnswer},
		{"cancel of an unknown id", jsonMsg(`"$/cancelRequest"`, `{"id":424242}`, ""), noAnswer},
		{"cancel with an object id", jsonMsg(`"$/cancelRequest"`, `{"id":{"deep":[1,[2]]}}`, ""), noAnswer},
		{"cancel without params", jsonMsg(`"$/cancelRequest"`, ``, ""), noAnswer},
		{"cancel with array params", jsonMsg(`"$/cancelRequest"`, `[1]`, ""), noAnswer},
		{"result for no call", text(`{"jsonrpc":"2.0","result":1,"id":999}`), noAnswer},
		{"error for no call", text(`{"jsonrpc":"2.0","error":{"code":-32000,"message":"x"},"id":998}`), noAnswer},
		// An error about an unparsable message, reflected back: answering
		// it would start two peers answering each other for ever.
		{"parse error response with id null", text(`{"jsonrpc":"2.0","error":{"code":-32700,"message":"x"},"id":null}`), noAnswer},
		{"batch of notifications only", jsonBatch(3, func(i int, b []byte) []byte {
			return appendJSONMsg(b, `"nope"`, p12, "")
		}), noAnswer},
		{"batch of notifications as long as the limit", jsonBatch(codec.MaxBatch, func(i int, b []byte) []byte {
			return appendJSONMsg(b, `"nope"`, "", "")
		}), noAnswer},

		// $/cancelRequest sent as a call is answered (null), not ignored.
		{"cancel sent as a call", jsonMsg(`"$/cancelRequest"`, `{"id":1}`, "60"), Want{Kind: Answer, ID: id(60), NullResult: true}},

		// Batches.
		{"batch of garbage", text(`[1,"x",null,{},[]]`), batchOf(invalid(null), invalid(null), invalid(null), invalid(null), invalid(null))},
		{"batch nested in a batch", text(`[[{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}]]`), batchOf(invalid(null))},
		{"batch of one", jsonBatch(1, func(_ int, b []byte) []byte { return appendJSONMsg(b, add12, p12, "70") }), batchOf(three(id(70)))},
		{"batch with one id twice", jsonBatch(2, func(_ int, b []byte) []byte { return appendJSONMsg(b, add12, p12, "71") }),
			batchOf(orRefusedAsDuplicate(three(id(71))), orRefusedAsDuplicate(three(id(71))))},
		{"batch mixing calls, notifications and garbage", text(`[` +
			`{"jsonrpc":"2.0","method":"add","params":[1,2],"id":72},` +
			`{"jsonrpc":"2.0","method":"add","params":[1,2]},` +
			`{"jsonrpc":"2.0","method":"nope","id":73},` +
			`{"foo":"boo"},` +
			`{"jsonrpc":"2.0","method":"add","params":"x","id":74},` +
			`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":975}}` +
			`]`), batchOf(three(id(72)), errorOf(rpc.CodeMethodNotFound, id(73)), invalid(null), invalid(id(74)))},
		{"batch of calls as long as the limit", jsonBatch(codec.MaxBatch, func(i int, b []byte) []byte {
			return appendJSONMsg(b, add12, p12, ids(int64(100_000+i)))
		}), batchOf(manyThrees(codec.MaxBatch)...)},
		// A batch beyond codec.MaxBatch: refused whole, -32600 with id null.
		{"batch one message over the limit", jsonBatch(codec.MaxBatch+1, func(i int, b []byte) []byte {
			return appendJSONMsg(b, add12, p12, ids(int64(200_000+i)))
		}), invalid(null)},
		{"batch of 70,000 notifications", jsonBatch(70_000, func(i int, b []byte) []byte {
			return appendJSONMsg(b, `"nope"`, "", "")
		}), invalid(null)},

		// Over the limit by one byte.
		{"one byte over the size limit", jsonOversize, Want{Kind: Oversize}},
	}
	return cases
}

// manyThrees are the answers to n add [1,2] calls with ids 100000 up.
func manyThrees(n int) []Want {
	ws := make([]Want, n)
	for i := range ws {
		ws[i] = resultOf(codec.Int(int64(100_000+i)), 3)
	}
	return ws
}
