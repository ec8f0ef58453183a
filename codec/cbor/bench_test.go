package cbor_test

import (
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
)

type benchParams struct {
	A    int    `json:"a"`
	B    int    `json:"b"`
	Name string `json:"name"`
}

var (
	benchParamsRaw = mustMarshal(benchParams{A: 1, B: 2, Name: "parley"})
	benchRequest   = codec.Message{ID: codec.Int(42), Method: "arith.add", Params: benchParamsRaw}
	benchResponse  = codec.Message{ID: codec.Int(42), Result: mustMarshal(map[string]int{"sum": 3})}
)

func mustMarshal(v any) []byte {
	b, err := cbor.Codec{}.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func benchDecode(b *testing.B, m *codec.Message) {
	c := cbor.Codec{}
	data, err := c.AppendMessage(nil, m)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]codec.Message, 0, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, _, err := c.Decode(dst[:0], data)
		if err != nil || len(msgs) != 1 {
			b.Fatal(err)
		}
	}
}

func benchAppend(b *testing.B, m *codec.Message) {
	c := cbor.Codec{}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = c.AppendMessage(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeRequest(b *testing.B)  { benchDecode(b, &benchRequest) }
func BenchmarkAppendRequest(b *testing.B)  { benchAppend(b, &benchRequest) }
func BenchmarkDecodeResponse(b *testing.B) { benchDecode(b, &benchResponse) }
func BenchmarkAppendResponse(b *testing.B) { benchAppend(b, &benchResponse) }

func BenchmarkDecodeErrorResponse(b *testing.B) {
	benchDecode(b, &codec.Message{ID: codec.Int(42), Error: &codec.Error{Code: -32601, Message: "method not found"}})
}

func BenchmarkDecodeRequestStringID(b *testing.B) {
	benchDecode(b, &codec.Message{ID: codec.String("req-42"), Method: "arith.add", Params: benchParamsRaw})
}

func BenchmarkDecodeBatch(b *testing.B) {
	c := cbor.Codec{}
	req, _ := c.AppendMessage(nil, &benchRequest)
	data := c.AppendBatch(nil, [][]byte{req, req, req, req})
	dst := make([]codec.Message, 0, 4)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(dst[:0], data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	c := cbor.Codec{}
	v := benchParams{A: 1, B: 2, Name: "parley"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Marshal(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendValue(b *testing.B) {
	c := cbor.Codec{}
	v := &benchParams{A: 1, B: 2, Name: "parley"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = c.AppendValue(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	c := cbor.Codec{}
	b.ReportAllocs()
	for b.Loop() {
		var p benchParams
		if err := c.Unmarshal(benchParamsRaw, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllocs pins the allocation counts of the hot paths.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in -short mode are not checked")
	}
	c := cbor.Codec{}
	req, _ := c.AppendMessage(nil, &benchRequest)
	resp, _ := c.AppendMessage(nil, &benchResponse)
	dst := make([]codec.Message, 0, 1)
	buf := make([]byte, 0, 256)
	checks := []struct {
		name string
		max  float64
		f    func()
	}{
		{"Decode request", 1, func() { _, _, _ = c.Decode(dst[:0], req) }},
		{"Decode response", 0, func() { _, _, _ = c.Decode(dst[:0], resp) }},
		{"AppendMessage request", 0, func() { buf, _ = c.AppendMessage(buf[:0], &benchRequest) }},
		{"AppendMessage response", 0, func() { buf, _ = c.AppendMessage(buf[:0], &benchResponse) }},
	}
	if !raceEnabled { // the race detector makes sync.Pool drop items
		v := &benchParams{A: 1, B: 2, Name: "parley"}
		checks = append(checks, struct {
			name string
			max  float64
			f    func()
		}{"AppendValue", 0, func() { buf, _ = c.AppendValue(buf[:0], v) }})
	}
	for _, ch := range checks {
		if n := testing.AllocsPerRun(100, ch.f); n > ch.max {
			t.Errorf("%s: %v allocations, want at most %v", ch.name, n, ch.max)
		}
	}
}
