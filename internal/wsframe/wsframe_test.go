package wsframe

import (
	"errors"
	"reflect"
	"testing"
)

// Headers of every length form, masked or not, are read whole however the
// stream is cut, payloads are skipped, and Between holds only between
// frames.
func TestFeed(t *testing.T) {
	stream := []byte{
		0x81, 0x02, 'h', 'i', // text, 7-bit length
		0x02, 0xfe, 0x00, 0x03, 1, 2, 3, 4, 'a', 'b', 'c', // binary, no FIN, 16-bit length, masked
		0x89, 0x00, // ping, empty
		0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x01, 'z', // continuation with FIN, 64-bit length
	}
	want := []Header{
		{Fin: true, Opcode: 0x1, Length: 2},
		{Fin: false, Opcode: 0x2, Length: 3},
		{Fin: true, Opcode: 0x9, Length: 0},
		{Fin: true, Opcode: 0x0, Length: 1},
	}
	ends := map[int]bool{4: true, 15: true, 17: true, len(stream): true} // offsets between frames
	for step := 1; step <= len(stream); step++ {
		var f Follower
		var got []Header
		for i := 0; i < len(stream); i += step {
			end := min(i+step, len(stream))
			if err := f.Feed(stream[i:end], func(h Header) error { got = append(got, h); return nil }); err != nil {
				t.Fatal(err)
			}
			if f.Between() != ends[end] {
				t.Fatalf("step %d, at %d: Between is %v", step, end, f.Between())
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: headers %+v, want %+v", step, got, want)
		}
	}
	if !want[2].Control() || want[1].Control() {
		t.Error("Control: ping is one, binary is not")
	}
	stop := errors.New("stop")
	var f Follower
	if err := f.Feed(stream, func(Header) error { return stop }); err != stop {
		t.Fatalf("Feed returned %v, want the header function's error", err)
	}
}
