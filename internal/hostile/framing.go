package hostile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/json"
)

// Framing cases: bytes sent on a byte-stream link (adapters/stream) that
// break its framing rather than the messages inside it. The JSON corpus of
// [Corpus] checks the messages; these check the frames: LSP header
// framing (Content-Length) and newline-delimited JSON.

// StreamCase is one hostile byte sequence on a stream link and what must
// come of it.
type StreamCase struct {
	// Name says what is hostile about the bytes.
	Name string
	// Build returns the bytes, sent as they are, in one write.
	Build func() []byte
	// CloseWrite: after the bytes, the client shuts its sending side
	// down (the stream is cut there).
	CloseWrite bool
	// Answers are the messages that must come back, in order.
	Answers []Want
	// After is what the link does after the answers.
	After After
}

// After is the state of a stream link after a case's answers.
type After uint8

const (
	// Usable: the link still answers a call.
	Usable After = iota
	// Ends: the server ends the link.
	Ends
	// Skipping: the server is still reading (skipping) a message it
	// refused; the client gives up the link.
	Skipping
)

// StreamTarget is a server serving [Service] over a byte stream.
type StreamTarget struct {
	// Lines is true for newline-delimited JSON, false for header framing.
	Lines bool
	// Dial opens a new connection; it must be able to CloseWrite (TCP, a
	// Unix socket).
	Dial func(ctx context.Context) (net.Conn, error)
	// Service is what the server's peers serve (its PeerOptions), JSON.
	Service *Service
}

// frame frames a JSON message for the target's framing.
func (tg StreamTarget) frame(msg []byte) []byte {
	if tg.Lines {
		return append(append([]byte(nil), msg...), '\n')
	}
	return append([]byte("Content-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"), msg...)
}

// call is the JSON of a call to add with id.
func call(id int, nums ...int) []byte {
	msg, err := request(json.Codec{}, "add", nums, codec.Int(int64(id)))
	if err != nil {
		panic(err)
	}
	return msg
}

// StreamCorpus returns the framing cases for tg's framing.
func StreamCorpus(tg StreamTarget) []StreamCase {
	sum := func(id int) Want { return resultOf(codec.Int(int64(id)), 3) }
	// Two calls run at once: their answers come in either order.
	eitherSum := Want{Kind: Answer, AnyID: true, Result: 3}
	body := call(1, 1, 2)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	head := func(h string) []byte { return []byte(h) }
	if tg.Lines {
		return []StreamCase{
			{Name: "two messages in one write", Build: func() []byte { return cat(tg.frame(body), tg.frame(call(2, 1, 2))) },
				Answers: []Want{eitherSum, eitherSum}},
			{Name: "CRLF line end", Build: func() []byte { return append(append([]byte(nil), body...), "\r\n"...) },
				Answers: []Want{sum(1)}},
			{Name: "blank lines", Build: func() []byte { return []byte("\n\r\n  \t\n") }},
			{Name: "garbage line", Build: func() []byte { return []byte("}{ not json\n") }, Answers: []Want{parseError}},
			{Name: "a 10 MB line", Build: func() []byte { return append(bytes.Repeat([]byte{'x'}, 10<<20), '\n') },
				Answers: []Want{invalid(null)}},
			{Name: "a 10 MB line of a valid message", Build: func() []byte {
				return tg.frame(call(3, make([]int, 5<<20)...))
			}, Answers: []Want{invalid(null)}},
			{Name: "a message one byte over the limit", Build: func() []byte {
				return tg.frame(oversizeJSON())
			}, Answers: []Want{invalid(null)}},
			// The cut line is still read as a message (a last line
			// without its newline is one): it does not parse.
			{Name: "a stream cut mid-line", Build: func() []byte { return body[:len(body)/2] }, CloseWrite: true,
				Answers: []Want{parseError}, After: Ends},
		}
	}
	return []StreamCase{
		{Name: "two messages in one write", Build: func() []byte { return cat(tg.frame(body), tg.frame(call(2, 1, 2))) },
			Answers: []Want{eitherSum, eitherSum}},
		{Name: "Content-Type tolerated, lower-case name", Build: func() []byte {
			return cat(head("content-length: "+strconv.Itoa(len(body))+"\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"), body)
		}, Answers: []Want{sum(1)}},
		{Name: "duplicate Content-Length, same value", Build: func() []byte {
			n := strconv.Itoa(len(body))
			return cat(head("Content-Length: "+n+"\r\nContent-Length: "+n+"\r\n\r\n"), body)
		}, Answers: []Want{sum(1)}},
		{Name: "blank lines between frames", Build: func() []byte { return cat(head("\r\n\r\n"), tg.frame(body)) },
			Answers: []Want{sum(1)}},
		{Name: "a body that is not JSON", Build: func() []byte { return tg.frame([]byte("}{")) }, Answers: []Want{parseError}},
		{Name: "Content-Length over the limit, body sent", Build: func() []byte { return tg.frame(oversizeJSON()) },
			Answers: []Want{invalid(null)}},
		{Name: "a 10 MB frame", Build: func() []byte { return tg.frame(bytes.Repeat([]byte{'x'}, 10<<20)) },
			Answers: []Want{invalid(null)}},
		{Name: "huge Content-Length within int64, no body", Build: func() []byte { return head("Content-Length: 1099511627776\r\n\r\n{}") },
			Answers: []Want{invalid(null)}, After: Skipping},
		{Name: "missing Content-Length", Build: func() []byte { return cat(head("Content-Type: application/json\r\n\r\n"), body) },
			Answers: []Want{parseError}, After: Ends},
		{Name: "negative Content-Length", Build: func() []byte { return head("Content-Length: -5\r\n\r\n{}") },
			Answers: []Want{parseError}, After: Ends},
		{Name: "Content-Length not a number", Build: func() []byte { return head("Content-Length: 0x10\r\n\r\n{}") },
			Answers: []Want{parseError}, After: Ends},
		{Name: "Content-Length beyond int64", Build: func() []byte { return head("Content-Length: 99999999999999999999999\r\n\r\n{}") },
			Answers: []Want{parseError}, After: Ends},
		{Name: "duplicate Content-Length, different values", Build: func() []byte {
			return cat(head("Content-Length: 2\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"), body)
		}, Answers: []Want{parseError}, After: Ends},
		// The frame before the garbage does not parse, so that its answer
		// is written before the reading goes on (a call's answer could
		// come after the link's end: calls in progress are cancelled).
		{Name: "garbage between frames", Build: func() []byte { return cat(tg.frame([]byte("}{")), head("garbage\r\n"), tg.frame(body)) },
			Answers: []Want{parseError, parseError}, After: Ends},
		{Name: "a header line of 100 KB", Build: func() []byte { return cat(head("X-Junk: "), bytes.Repeat([]byte{'j'}, 100<<10), head("\r\n")) },
			Answers: []Want{parseError}, After: Ends},
		{Name: "a header without a body", Build: func() []byte { return head("Content-Length: 50\r\n\r\n") }, CloseWrite: true,
			Answers: []Want{parseError}, After: Ends},
		{Name: "a stream cut mid-frame", Build: func() []byte { f := tg.frame(body); return f[:len(f)-5] }, CloseWrite: true,
			Answers: []Want{parseError}, After: Ends},
		{Name: "a stream cut mid-header", Build: func() []byte { return head("Content-Len") }, CloseWrite: true,
			Answers: []Want{parseError}, After: Ends},
	}
}

// oversizeJSON is a valid call one byte over [MaxMessageSize].
func oversizeJSON() []byte {
	msg := call(9, 1, 2)
	pad := MaxMessageSize + 1 - len(msg)
	return append(msg[:len(msg)-1:len(msg)-1], append(bytes.Repeat([]byte{' '}, pad), '}')...)
}

// RunStream runs every case of [StreamCorpus] for tg, each on a fresh
// connection: the answers come back in order, then the link is usable
// (the next call is answered), ends (the server closes it), or is left
// skipping. Then the heap must not have grown by more than [HeapBound].
func RunStream(t *testing.T, tg StreamTarget) {
	t.Helper()
	before := LiveHeap()
	for _, c := range StreamCorpus(tg) {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, err := tg.Dial(ctx)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if d, ok := ctx.Deadline(); ok {
				_ = conn.SetDeadline(d)
			}
			r := newFrameReader(conn, tg.Lines)
			writeErr := make(chan error, 1)
			go func() { // a large write and the answers it brings overlap
				_, err := conn.Write(c.Build())
				if err == nil && c.CloseWrite {
					err = conn.(interface{ CloseWrite() error }).CloseWrite()
				}
				writeErr <- err
			}()
			for i, w := range c.Answers {
				msg, err := r.next()
				if err != nil {
					t.Fatalf("answer %d: want %v, got %v", i, w, err)
				}
				if err := check(json.Codec{}, msg, w); err != nil {
					t.Fatalf("answer %d: %v\nanswer: %s", i, err, short(msg))
				}
			}
			if err := <-writeErr; err != nil && c.After != Ends {
				t.Fatalf("write: %v", err)
			}
			switch c.After {
			case Usable:
				if _, err := conn.Write(tg.frame(call(77, 40, 2))); err != nil {
					t.Fatal(err)
				}
				msg, err := r.next()
				if err != nil {
					t.Fatalf("the link is not usable after the case: %v", err)
				}
				if err := check(json.Codec{}, msg, resultOf(codec.Int(77), 42)); err != nil {
					t.Fatalf("the next message is not the answer to the next call: %v: %s", err, short(msg))
				}
			case Ends:
				if msg, err := r.next(); err == nil {
					t.Fatalf("got %s, want the end of the link", short(msg))
				} else if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
					t.Fatalf("waiting for the end of the link: %v", err)
				}
			}
		})
	}
	after := LiveHeap()
	if after > before && after-before > HeapBound {
		t.Errorf("live heap grew by %d MiB (bound %d MiB)", (after-before)>>20, HeapBound>>20)
	}
	if n := tg.Service.Panics(); n > 0 {
		t.Errorf("the peers logged %d errors", n)
	}
}

func isReset(err error) bool { return strings.Contains(err.Error(), "connection reset") }

// rawFrameReader reads the server's frames with readers of the standard
// library (textproto for headers), not with the adapter's.
type rawFrameReader struct {
	br    *bufio.Reader
	tp    *textproto.Reader
	lines bool
}

// FrameReader returns a function that reads the next message from a
// stream link, newline-delimited (lines) or with LSP headers, with readers
// of the standard library (textproto for headers): for a [Conn] over a
// stream, and to read what a server sends back.
func FrameReader(r io.Reader, lines bool) func() ([]byte, error) {
	return newFrameReader(r, lines).next
}

func newFrameReader(r io.Reader, lines bool) *rawFrameReader {
	br := bufio.NewReaderSize(r, 64<<10)
	return &rawFrameReader{br: br, tp: textproto.NewReader(br), lines: lines}
}

func (r *rawFrameReader) next() ([]byte, error) {
	if r.lines {
		line, err := r.br.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
	h, err := r.tp.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if err != nil || n < 0 || n > MaxMessageSize {
		return nil, fmt.Errorf("the server sent a bad Content-Length %q", h.Get("Content-Length"))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, err
	}
	return b, nil
}
