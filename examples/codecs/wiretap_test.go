package main

import (
	"bytes"
	"testing"
)

// TestFrameParser feeds an upgrade request and three frames (a masked
// text frame with a 16-bit length, a ping, an unmasked binary frame) in
// every possible pair of pieces, and checks what is recorded.
func TestFrameParser(t *testing.T) {
	text := bytes.Repeat([]byte("x"), 300)
	key := [4]byte{1, 2, 3, 4}
	var stream []byte
	stream = append(stream, "GET /rpc HTTP/1.1\r\nHost: a\r\n\r\n"...)
	stream = append(stream, 0x81, 0x80|126, 300>>8, 300&0xff)
	stream = append(stream, key[:]...)
	for i, c := range text {
		stream = append(stream, c^key[i%4])
	}
	stream = append(stream, 0x89, 0)          // ping, no payload
	stream = append(stream, 0x82, 3, 7, 8, 9) // binary

	for cut := range len(stream) + 1 {
		var got []frame
		p := frameParser{add: func(f frame) { got = append(got, f) }}
		p.feed(stream[:cut])
		p.feed(stream[cut:])
		if len(got) != 3 {
			t.Fatalf("cut at %d: %d frames", cut, len(got))
		}
		if got[0].opcode != 1 || got[0].header != 8 || !bytes.Equal(got[0].payload, text) {
			t.Fatalf("cut at %d: text frame %d %d %q", cut, got[0].opcode, got[0].header, got[0].payload)
		}
		if got[1].opcode != 9 || got[1].wire() != 2 {
			t.Fatalf("cut at %d: ping %+v", cut, got[1])
		}
		if got[2].opcode != 2 || got[2].wire() != 5 || !bytes.Equal(got[2].payload, []byte{7, 8, 9}) {
			t.Fatalf("cut at %d: binary %+v", cut, got[2])
		}
	}
	if d := dataFrames([]frame{{opcode: 9}, {opcode: 1}, {opcode: 10}}); len(d) != 1 {
		t.Fatalf("dataFrames kept %d", len(d))
	}
}

// TestFrameParserGarbage checks that a length the parser will not follow
// stops recording on that connection instead of panicking.
func TestFrameParserGarbage(t *testing.T) {
	var got []frame
	p := frameParser{add: func(f frame) { got = append(got, f) }}
	p.feed([]byte("HTTP/1.1 101 Switching Protocols\r\n\r\n"))
	p.feed([]byte{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3})
	p.feed([]byte{0x81, 1, 'a'})
	if !p.broken || len(got) != 0 {
		t.Fatalf("broken %v, frames %d", p.broken, len(got))
	}
}
