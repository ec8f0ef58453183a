package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/rpc"
)

// sample is one call the comparison makes with each codec.
type sample struct {
	label  string
	method string
	params any
	result func() any // a new pointer to decode the result into
}

func samples() []sample {
	readings := make([]float64, 16)
	for i := range readings {
		readings[i] = 20 + float64(i%5)*0.25
	}
	return []sample{
		{"add [2,3]", "add", []int{2, 3}, func() any { return new(int) }},
		{"greet Ada", "greet", map[string]string{"name": "Ada"}, func() any { return new(string) }},
		{"forecast 5 days", "forecast", map[string]any{"city": "Lisbon", "days": 5}, func() any { return new([]Day) }},
		{"stats of 16 floats", "stats", readings, func() any { return new(Stats) }},
		{"thumbnail 24x24", "thumbnail", Size{Width: 24, Height: 24}, func() any { return new(Image) }},
		{"divide 1/0 (error)", "divide", []float64{1, 0}, func() any { return new(float64) }},
	}
}

// exchange is what one call looked like on the wire.
type exchange struct {
	req, resp frame
	result    any   // the decoded result
	err       error // or the error answer
}

// codecs are the two codecs compared, in the order printed.
var codecs = []codec.Codec{json.Codec{}, cbor.Codec{}}

// compare dials the server at url once per codec, makes every sample call
// and prints the sizes of the messages the tap recorded, side by side.
func compare(ctx context.Context, url string, tap *wiretap, out io.Writer) error {
	all := make([][]exchange, len(codecs))
	for i, c := range codecs {
		xs, err := callAll(ctx, url, c, tap, out)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
		all[i] = xs
	}
	printTable(out, all)

	// The real bytes of the first call, both ways it was sent.
	first := samples()[0]
	for i, c := range codecs {
		f := all[i][0].req
		fmt.Fprintf(out, "\n%s as %s (%s frame, %d bytes):\n  %s\n",
			first.label, c.Name(), frameKind(f.opcode), len(f.payload), show(f.payload, c.Binary()))
	}

	same := true
	for j, s := range samples() {
		a, b := all[0][j], all[1][j]
		if !reflect.DeepEqual(a.result, b.result) || fmt.Sprint(a.err) != fmt.Sprint(b.err) {
			same = false
			fmt.Fprintf(out, "%s: json gave %v %v, cbor %v %v\n", s.label, a.result, a.err, b.result, b.err)
		}
	}
	if !same {
		return errors.New("the codecs gave different results")
	}
	fmt.Fprintln(out, "\nBoth codecs gave the same results.")
	return nil
}

// callAll dials with codec c and makes every sample call, one at a time, so
// that the frames the tap records between two marks belong to one call.
func callAll(ctx context.Context, url string, c codec.Codec, tap *wiretap, out io.Writer) ([]exchange, error) {
	// The one option that picks the codec; the server follows (it is
	// offered as the subprotocol "jsonrpc2."+c.Name()).
	peer, err := websocket.Dial(ctx, url, &websocket.DialOptions{Codec: c})
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	fmt.Fprintf(out, "%s: dialed with DialOptions{Codec: %T}; the link speaks %s\n", c.Name(), c, peer.Codec().Name())

	var xs []exchange
	for _, s := range samples() {
		r0, w0 := tap.mark()
		result := s.result()
		err := peer.Call(ctx, s.method, s.params, result)
		var remote *rpc.Error
		if err != nil && !errors.As(err, &remote) {
			return nil, fmt.Errorf("%s: %w", s.method, err)
		}
		in, outf := tap.dataSince(r0, w0)
		if len(in) != 1 || len(outf) != 1 {
			return nil, fmt.Errorf("%s: expected one frame each way, recorded %d in and %d out", s.method, len(in), len(outf))
		}
		xs = append(xs, exchange{req: in[0], resp: outf[0], result: reflect.ValueOf(result).Elem().Interface(), err: err})
	}
	return xs, nil
}

func printTable(out io.Writer, all [][]exchange) {
	fmt.Fprintln(out, "\nMessage sizes in bytes, measured on the server's socket (the WebSocket")
	fmt.Fprintln(out, "payload of each frame; the last line adds the frame headers):")
	fmt.Fprintln(out)
	const row = "%-20s %6v %6v   %6v %6v\n"
	fmt.Fprintf(out, "%-20s %13s   %13s\n", "", "request", "response")
	fmt.Fprintf(out, row, "call", "json", "cbor", "json", "cbor")
	var tot, wire [4]int
	for j, s := range samples() {
		xs := [4]exchange{all[0][j], all[1][j], all[0][j], all[1][j]}
		fs := [4]frame{xs[0].req, xs[1].req, xs[2].resp, xs[3].resp}
		fmt.Fprintf(out, row, s.label, len(fs[0].payload), len(fs[1].payload), len(fs[2].payload), len(fs[3].payload))
		for k, f := range fs {
			tot[k] += len(f.payload)
			wire[k] += f.wire()
		}
	}
	fmt.Fprintf(out, row, "total", tot[0], tot[1], tot[2], tot[3])
	fmt.Fprintf(out, row, "cbor/json", "", fmt.Sprintf("%d%%", 100*tot[1]/tot[0]), "", fmt.Sprintf("%d%%", 100*tot[3]/tot[2]))
	fmt.Fprintf(out, row, "total on the wire", wire[0], wire[1], wire[2], wire[3])
}

func frameKind(op byte) string {
	switch op {
	case 1:
		return "text"
	case 2:
		return "binary"
	}
	return fmt.Sprintf("opcode %d", op)
}

// show prints a message: text as it is, binary as hex.
func show(b []byte, binary bool) string {
	if !binary {
		return string(b)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
