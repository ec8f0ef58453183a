package stream_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/parleyrpc/parley/adapters/stream"
)

// fuzzMax is the read limit of the fuzzed transports: small, so that
// inputs reach it.
const fuzzMax = 100

// fakeStream is a stream that reads data and keeps what is written.
type fakeStream struct {
	r io.Reader
	w bytes.Buffer
}

func (s *fakeStream) Read(b []byte) (int, error)  { return s.r.Read(b) }
func (s *fakeStream) Write(b []byte) (int, error) { return s.w.Write(b) }
func (s *fakeStream) Close() error                { return nil }

// readAll runs a transport with framing f over data and returns what it
// delivered and the error it ended with. It checks the contract: no
// message over the limit, OnClose exactly once, after the last message.
func readAll(t *testing.T, f stream.Framing, data []byte) ([]string, error) {
	// Small reads, so that messages straddle the reader's buffer.
	s := &fakeStream{r: &chunkReader{data: data, n: 7}}
	tr, err := stream.NewTransport(s, &stream.Options{Framing: f, WriteTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(fuzzMax)
	tr.Start(rec)
	<-rec.closed
	tr.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closes != 1 {
		t.Fatalf("OnClose called %d times", rec.closes)
	}
	for _, m := range rec.msgs {
		if len(m) > fuzzMax {
			t.Fatalf("delivered a message of %d bytes, over the limit of %d", len(m), fuzzMax)
		}
	}
	return rec.msgs, rec.err
}

// chunkReader returns data n bytes at a time.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(len(b), r.n)], r.data)
	r.data = r.data[k:]
	return k, nil
}

// FuzzHeaderFraming feeds header framing arbitrary bytes (no panic, no
// hang, the contract kept), then frames the input's pieces (cut at each
// 0 byte) properly and checks that exactly those within the limit arrive,
// in order, and the stream ends cleanly.
func FuzzHeaderFraming(f *testing.F) {
	f.Add([]byte("Content-Length: 2\r\n\r\n{}"))
	f.Add([]byte("Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello\x00world"))
	f.Add([]byte("\r\nContent-Type: x\r\ncontent-length: 3\r\n\r\nabc"))
	f.Add([]byte("Content-Length: -1\r\n\r\n"))
	f.Add([]byte("Content-Length: 1000\r\n\r\n" + string(bytes.Repeat([]byte{'x'}, 1000))))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := readAll(t, stream.Header, data)
		if err != io.EOF && !errors.Is(err, stream.ErrFraming) {
			t.Fatalf("ended with %v", err)
		}
		var framed []byte
		var want []string
		for _, m := range bytes.Split(data, []byte{0}) {
			framed = append(framed, "Content-Length: "+strconv.Itoa(len(m))+"\r\n\r\n"...)
			framed = append(framed, m...)
			if len(m) <= fuzzMax {
				want = append(want, string(m))
			}
		}
		got, err := readAll(t, stream.Header, framed)
		if err != io.EOF {
			t.Fatalf("well-framed input ended with %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	})
}

// FuzzLineFraming is FuzzHeaderFraming for newline-delimited framing: the
// pieces, without their newlines, are sent one a line; blank ones are
// skipped.
func FuzzLineFraming(f *testing.F) {
	f.Add([]byte("{}\n{\"a\":1}\r\n\n"))
	f.Add([]byte("abc\x00def\x00  \x00"))
	f.Add(bytes.Repeat([]byte{'x'}, 300))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := readAll(t, stream.Lines, data); err != io.EOF {
			t.Fatalf("ended with %v", err)
		}
		var framed []byte
		var want []string
		for _, m := range bytes.Split(data, []byte{0}) {
			m = bytes.ReplaceAll(bytes.ReplaceAll(m, []byte{'\n'}, nil), []byte{'\r'}, nil)
			framed = append(append(framed, m...), '\n')
			if len(bytes.TrimSpace(m)) > 0 && len(m) <= fuzzMax {
				want = append(want, string(m))
			}
		}
		got, err := readAll(t, stream.Lines, framed)
		if err != io.EOF {
			t.Fatalf("well-framed input ended with %v", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
	})
}
