package hostile_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
	"github.com/parleyrpc/parley/rpc"
)

// A logical message of the differential test: the same message encoded by
// each codec, and the answer a client must see, whatever the codec.
type logical struct {
	name string
	// build encodes the message with c.
	build func(c codec.Codec) ([]byte, error)
	want  string
}

// call is a request for method with params, id 7.
func call(method string, params any) func(codec.Codec) ([]byte, error) {
	return func(c codec.Codec) ([]byte, error) {
		p, err := c.Marshal(params)
		if err != nil {
			return nil, err
		}
		return c.AppendMessage(nil, &codec.Message{Method: method, Params: p, ID: codec.Int(7)})
	}
}

// batch is a batch of n calls add [1,2], ids 1000 up.
func batch(n int) func(codec.Codec) ([]byte, error) {
	return func(c codec.Codec) ([]byte, error) {
		p, err := c.Marshal([]int{1, 2})
		if err != nil {
			return nil, err
		}
		items := make([][]byte, n)
		for i := range items {
			if items[i], err = c.AppendMessage(nil, &codec.Message{Method: "add", Params: p, ID: codec.Int(int64(1000 + i))}); err != nil {
				return nil, err
			}
		}
		return c.AppendBatch(nil, items), nil
	}
}

// sized is a call keys {"a": "xxx…"} of exactly size bytes in c's
// encoding.
func sized(size int) func(codec.Codec) ([]byte, error) {
	return func(c codec.Codec) ([]byte, error) {
		pad := size - 64
		for range 4 { // the string's head may grow with its length: settle
			b, err := call("keys", map[string]string{"a": strings.Repeat("x", pad)})(c)
			if err != nil || len(b) == size {
				return b, err
			}
			pad += size - len(b)
		}
		return nil, fmt.Errorf("no keys call of exactly %d bytes", size)
	}
}

// truncated is what build makes, less its last byte.
func truncated(build func(codec.Codec) ([]byte, error)) func(codec.Codec) ([]byte, error) {
	return func(c codec.Codec) ([]byte, error) {
		b, err := build(c)
		return b[:max(len(b)-1, 0)], err
	}
}

func ones(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

func keys(n int) map[string]int {
	m := make(map[string]int, n)
	for i := range n {
		m["k"+strconv.Itoa(i)] = 1
	}
	return m
}

// deepMap is depth maps nested in one another, {"a":{"a":...1}}.
func deepMap(depth int) any {
	var v any = 1
	for range depth {
		v = map[string]any{"a": v}
	}
	return v
}

// deepArrays is {"a": [[...[1]...]]}, depth levels in all.
func deepArrays(depth int) any {
	var v any = 1
	for range depth - 1 {
		v = []any{v}
	}
	return map[string]any{"a": v}
}

// The answers a client sees, as the verdict table writes them.
const (
	tooDeep     = "-32602 id 7: " + "invalid params for keys: codec: over a decoding limit: nesting deeper than 128 levels"
	tooManyAdd  = "-32602 id 7: " + "invalid params for add: codec: over a decoding limit: more than 100000 elements and members in one value"
	tooManyKeys = "-32602 id 7: " + "invalid params for keys: codec: over a decoding limit: more than 100000 elements and members in one value"
	batchTooBig = "-32600 id null: codec: over a decoding limit: batch of more than 10000 messages"
	oversize    = "-32600 id null"
	parseError  = "-32700 id null"
)

func logicalMessages() []logical {
	d, n, b := codec.MaxDepth, codec.MaxItems, codec.MaxBatch
	return []logical{
		{"depth 1", call("keys", deepMap(1)), "result 1, id 7"},
		{"depth 64", call("keys", deepMap(64)), "result 1, id 7"},
		{"depth MaxDepth (maps)", call("keys", deepMap(d)), "result 1, id 7"},
		{"depth MaxDepth+1 (maps)", call("keys", deepMap(d+1)), tooDeep},
		{"depth MaxDepth (arrays in a map)", call("keys", deepArrays(d)), "result 1, id 7"},
		{"depth MaxDepth+1 (arrays in a map)", call("keys", deepArrays(d+1)), tooDeep},
		{"depth 1,000", call("keys", deepMap(1000)), tooDeep},
		{"array of 1", call("add", ones(1)), "result 1, id 7"},
		{"array of 70,000", call("add", ones(70_000)), "result 70000, id 7"},
		{"array of MaxItems", call("add", ones(n)), "result 100000, id 7"},
		{"array of MaxItems+1", call("add", ones(n+1)), tooManyAdd},
		{"map of MaxItems keys", call("keys", keys(n)), "result 100000, id 7"},
		{"map of MaxItems+1 keys", call("keys", keys(n+1)), tooManyKeys},
		{"MaxItems over two levels", call("keys", map[string]any{"a": ones(n - 1)}), "result 1, id 7"},
		{"MaxItems+1 over two levels", call("keys", map[string]any{"a": ones(n)}), tooManyKeys},
		{"batch of 1", batch(1), "batch of 1 answers, all 3, ids 1000 up"},
		{"batch of MaxBatch", batch(b), "batch of 10000 answers, all 3, ids 1000 up"},
		{"batch of MaxBatch+1", batch(b + 1), batchTooBig},
		{"message of MaxMessageSize bytes", sized(hostile.MaxMessageSize), "result 1, id 7"},
		{"message of MaxMessageSize+1 bytes", sized(hostile.MaxMessageSize + 1), oversize},
		{"MaxItems+1, truncated", truncated(call("add", ones(n+1))), parseError},
		{"depth 1,000, truncated", truncated(call("keys", deepMap(1000))), parseError},
	}
}

// TestLimitsSameForBothCodecs feeds the same logical messages, from small
// to just over each limit, to a peer over each codec, and checks that a
// client sees the same answer from both: the one in the table.
func TestLimitsSameForBothCodecs(t *testing.T) {
	codecs := []codec.Codec{json.Codec{}, cbor.Codec{}}
	msgs := logicalMessages()
	got := make([][]string, len(msgs))
	for _, c := range codecs {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		conn, err := pipeTarget(t, c).Dial(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			b, err := m.build(c)
			if err != nil {
				t.Fatalf("%s: encoding %s: %v", c.Name(), m.name, err)
			}
			if err := conn.Send(ctx, b); err != nil {
				t.Fatalf("%s: %s: send: %v", c.Name(), m.name, err)
			}
			answer, err := conn.Recv(ctx)
			if err != nil {
				t.Fatalf("%s: %s: no answer: %v", c.Name(), m.name, err)
			}
			got[i] = append(got[i], verdict(t, c, answer))
		}
		_ = conn.Close()
		cancel()
	}
	var table strings.Builder
	w := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "message\tjson\tcbor\n")
	for i, m := range msgs {
		fmt.Fprintf(w, "%s\t%s\t%s\n", m.name, short(got[i][0]), short(got[i][1]))
		for k, c := range codecs {
			if got[i][k] != m.want {
				t.Errorf("%s over %s: the client sees %q, want %q", m.name, c.Name(), got[i][k], m.want)
			}
		}
	}
	_ = w.Flush()
	t.Logf("verdicts:\n%s", table.String())
}

func short(s string) string {
	if i := strings.Index(s, ": invalid params"); i >= 0 {
		return s[:i] + ": " + s[strings.LastIndex(s, ": ")+2:]
	}
	if i := strings.Index(s, ": codec: over a decoding limit: "); i >= 0 {
		return s[:i] + ": " + s[i+len(": codec: over a decoding limit: "):]
	}
	return s
}

// verdict describes an answer as a client sees it.
func verdict(t *testing.T, c codec.Codec, answer []byte) string {
	t.Helper()
	msgs, isBatch, err := c.Decode(nil, answer)
	if err != nil {
		t.Fatalf("%s: the answer does not decode: %v", c.Name(), err)
	}
	if isBatch {
		ids := make([]int64, 0, len(msgs))
		for i := range msgs {
			var n int64
			if msgs[i].Error != nil || c.Unmarshal(msgs[i].Result, &n) != nil || n != 3 {
				return fmt.Sprintf("batch with an answer other than 3: %+v", msgs[i])
			}
			id, _ := msgs[i].ID.Int()
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for i, id := range ids {
			if id != int64(1000+i) {
				return fmt.Sprintf("batch of %d answers with ids other than 1000 up", len(msgs))
			}
		}
		return fmt.Sprintf("batch of %d answers, all 3, ids 1000 up", len(msgs))
	}
	if len(msgs) != 1 {
		t.Fatalf("%s: %d messages in a single answer", c.Name(), len(msgs))
	}
	m := &msgs[0]
	if e := m.Error; e != nil {
		s := fmt.Sprintf("%d id %s", e.Code, m.ID)
		// The messages of these codes come from the peer and the codec's
		// limits: the same words in both codecs. Parse errors say what the
		// parser found, in each codec's own words.
		if e.Code != int64(rpc.CodeParseError) && !strings.HasPrefix(e.Message, "message of") {
			s += ": " + e.Message
		}
		return s
	}
	var n int64
	if c.Unmarshal(m.Result, &n) == nil {
		return fmt.Sprintf("result %d, id %s", n, m.ID)
	}
	return fmt.Sprintf("result %.40x, id %s", m.Result, m.ID)
}
