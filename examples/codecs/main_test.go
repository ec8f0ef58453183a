package main

import (
	"bytes"
	"context"
	"encoding/hex"
	stdjson "encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/examples/internal/extest"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

var rowPattern = regexp.MustCompile(`^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$`)

// TestCompare runs the program as `go run ./examples/codecs` does and
// checks what it prints: a row of four measured sizes per call, the real
// bytes of the first request in each codec (which must be that call, and
// as long as the table says), and the same results from both codecs.
func TestCompare(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := extest.NewOutput(t.Log)
	if err := run(ctx, "127.0.0.1:0", out, false); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	text := out.String()
	for _, want := range []string{
		"server: a client connected speaking json",
		"server: a client connected speaking cbor",
		"json: dialed with DialOptions{Codec: json.Codec}; the link speaks json",
		"cbor: dialed with DialOptions{Codec: cbor.Codec}; the link speaks cbor",
		"add [2,3] as json (text frame, ",
		"add [2,3] as cbor (binary frame, ",
		"Both codecs gave the same results.",
		"codecs: stopped",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	rows := map[string][4]int{}
	lines := out.Lines()
	for _, l := range lines {
		m := rowPattern.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var r [4]int
		for i := range r {
			r[i], _ = strconv.Atoi(m[i+2])
		}
		rows[m[1]] = r
	}
	for _, s := range samples() {
		r, ok := rows[s.label]
		if !ok {
			t.Fatalf("no row for %q in:\n%s", s.label, text)
		}
		for i, n := range r {
			if n < 20 {
				t.Errorf("%s: size %d of column %d is too small to be a message", s.label, n, i)
			}
		}
	}
	// Raw bytes: base64 text in JSON, a byte string in CBOR.
	if th := rows["thumbnail 24x24"]; th[3] >= th[2] || th[2] < 24*24*4/3 {
		t.Errorf("thumbnail response: json %d, cbor %d bytes", th[2], th[3])
	}
	if _, ok := rows["total on the wire"]; !ok {
		t.Error("no wire totals")
	}

	// The first request's bytes, as printed, against the table.
	add := rows["add [2,3]"]
	jsonMsg := lineAfter(t, lines, "add [2,3] as json")
	if len(jsonMsg) != add[0] {
		t.Errorf("json request printed is %d bytes, the table says %d", len(jsonMsg), add[0])
	}
	var req struct {
		JSONRPC string `json:"jsonrpc"`
		Method  string `json:"method"`
		Params  []int  `json:"params"`
		ID      int    `json:"id"`
	}
	if err := stdjson.Unmarshal([]byte(jsonMsg), &req); err != nil || req.JSONRPC != "2.0" || req.Method != "add" || len(req.Params) != 2 {
		t.Errorf("json request on the wire: %q (%v)", jsonMsg, err)
	}
	cborMsg, err := hex.DecodeString(strings.ReplaceAll(lineAfter(t, lines, "add [2,3] as cbor"), " ", ""))
	if err != nil || len(cborMsg) != add[1] {
		t.Errorf("cbor request printed is %d bytes (%v), the table says %d", len(cborMsg), err, add[1])
	}
	// A CBOR map (major type 5) with the same text keys.
	if len(cborMsg) == 0 || cborMsg[0]>>5 != 5 || !bytes.Contains(cborMsg, []byte("method")) || !bytes.Contains(cborMsg, []byte("add")) {
		t.Errorf("cbor request on the wire: % x", cborMsg)
	}
}

// lineAfter returns the line after the one starting with prefix, trimmed.
func lineAfter(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) && i+1 < len(lines) {
			return strings.TrimSpace(lines[i+1])
		}
	}
	t.Fatalf("no line starting with %q", prefix)
	return ""
}

// TestServe runs the program with -serve: after the comparison the
// service stays up for other clients, until the context ends.
func TestServe(t *testing.T) {
	prog := extest.Start(t, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", out, true)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	line, err := prog.Out.Wait(ctx, "until Ctrl-C")
	if err != nil {
		t.Fatal(err)
	}
	url := regexp.MustCompile(`ws://\S+`).FindString(line)
	peer, err := websocket.Dial(ctx, url, &websocket.DialOptions{Codec: cbor.Codec{}})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if img, err := rpc.Call[Image](ctx, peer, "thumbnail", Size{Width: 2, Height: 2}); err != nil || len(img.Pixels) != 4 || img.Pixels[3] != 255 {
		t.Fatalf("thumbnail: %+v %v", img, err)
	}
	if err := prog.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := prog.Out.Wait(ctx, "codecs: stopped"); err != nil {
		t.Fatal(err)
	}
	<-peer.Done()
}
