package stream_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/rpc"
)

// recorder is an rpc.Inbound that keeps what a transport delivers.
type recorder struct {
	max    int
	mu     sync.Mutex
	msgs   []string
	closes int
	err    error
	closed chan struct{}
}

func newRecorder(max int) *recorder { return &recorder{max: max, closed: make(chan struct{})} }

func (r *recorder) OnMessage(msg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closes > 0 {
		panic("OnMessage after OnClose")
	}
	r.msgs = append(r.msgs, string(msg))
}

func (r *recorder) OnClose(err error) {
	r.mu.Lock()
	r.closes++
	r.err = err
	n := r.closes
	r.mu.Unlock()
	if n == 1 {
		close(r.closed)
	}
}

func (r *recorder) MaxMessageSize() int { return r.max }

// TestLinesWriteNewlines: a message holding newlines (whitespace a raw
// result may carry) is written as one line, its newlines as spaces.
func TestLinesWriteNewlines(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	tr, err := stream.NewTransport(a, &stream.Options{Framing: stream.Lines})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(1 << 20)
	tr.Start(rec)
	msg := "{\n  \"jsonrpc\": \"2.0\",\r\n  \"method\": \"x\"\n}"
	go func() { _ = tr.Send(context.Background(), []byte(msg)) }()
	line, err := bufio.NewReader(b).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.NewReplacer("\n", " ", "\r", " ").Replace(msg) + "\n"; line != want {
		t.Fatalf("wrote %q, want %q", line, want)
	}
	tr.Close()
	<-rec.closed
	if !errors.Is(rec.err, net.ErrClosed) {
		t.Fatalf("OnClose(%v), want net.ErrClosed", rec.err)
	}
}

// TestHeaderWrite: the frame is the LSP's, byte for byte.
func TestHeaderWrite(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	tr, err := stream.NewTransport(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	go func() { _ = tr.Send(context.Background(), []byte(`{"a":1}`)) }()
	buf := make([]byte, len("Content-Length: 7\r\n\r\n{\"a\":1}"))
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	if got := string(buf); got != "Content-Length: 7\r\n\r\n{\"a\":1}" {
		t.Fatalf("wrote %q", got)
	}
}

// TestSlowConsumer: a client that never reads makes the server's write
// time out; the link ends with ErrWriteTimeout, and the server's peer
// with it, instead of a pile of waiting writes.
func TestSlowConsumer(t *testing.T) {
	for _, network := range []string{"tcp", "pipe"} {
		t.Run(network, func(t *testing.T) {
			var server, client net.Conn
			if network == "pipe" {
				server, client = net.Pipe() // unbuffered: the first write blocks
			} else {
				ln := listen(t, "tcp")
				defer ln.Close()
				var err error
				if client, err = net.Dial("tcp", ln.Addr().String()); err != nil {
					t.Fatal(err)
				}
				if server, err = ln.Accept(); err != nil {
					t.Fatal(err)
				}
			}
			defer client.Close()
			p, err := stream.NewPeer(server, &stream.Options{WriteTimeout: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			big := strings.Repeat("x", 1<<20)
			ctx := testContext(t)
			var sendErr error
			for i := 0; i < 1000 && sendErr == nil; i++ { // the kernel's buffers fill up first
				sendErr = p.Notify(ctx, "flood", []string{big})
			}
			if err := p.Wait(); !errors.Is(err, stream.ErrWriteTimeout) || !errors.Is(err, rpc.ErrConnectionLost) {
				t.Fatalf("peer ended with %v (last send: %v), want ErrWriteTimeout", err, sendErr)
			}
		})
	}
}

// TestSendHonoursContext: behind a stuck write, frames are handed to the
// writer up to a bound; a send waiting for room beyond it gives up when
// its context ends.
func TestSendHonoursContext(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	tr, err := stream.NewTransport(a, &stream.Options{WriteTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(1 << 20)
	tr.Start(rec)
	stuck := make(chan error, 1)
	go func() { stuck <- tr.Send(context.Background(), []byte(`{}`)) }() // nobody reads b
	// Wait until the first send holds the write: the pipe has its bytes.
	peek := make([]byte, 1)
	if _, err := b.Read(peek); err != nil {
		t.Fatal(err)
	}
	// The next frame is handed to the stuck writer's buffer; it fills it.
	if err := tr.Send(context.Background(), make([]byte, 300<<10)); err != nil {
		t.Fatalf("Send to the writer's buffer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Send(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want the context's error", err)
	}
	tr.Close()
	if err := <-stuck; err == nil {
		t.Fatal("the stuck send succeeded after Close")
	}
	<-rec.closed
}

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestAnswersWrittenTogether: answers sent by the goroutines that inbound
// messages woke may go out together (the writer yields once to gather
// them, then writes its own frame and theirs in one buffer): every frame
// arrives whole and each sender's frames in order, in both framings. How
// many writes they share depends on the scheduler, so it is logged here
// and measured by BenchmarkStream (writes/call), not asserted.
func TestAnswersWrittenTogether(t *testing.T) {
	for _, f := range []stream.Framing{stream.Header, stream.Lines} {
		t.Run(f.String(), func(t *testing.T) {
			const senders, each = 8, 200
			a, b := net.Pipe()
			cc := &countingConn{Conn: a}
			tr, err := stream.NewTransport(cc, &stream.Options{Framing: f, WriteTimeout: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			// Every message delivered wakes a sender (as a call wakes a
			// handler), which answers it.
			wake := make(chan struct{}, senders*each)
			tr.Start(inboundFunc(func([]byte) { wake <- struct{}{} }))
			go func() {
				frame := []byte(`{"jsonrpc":"2.0","method":"m"}`)
				for range senders * each {
					var out []byte
					if f == stream.Lines {
						out = append(append(out, frame...), '\n')
					} else {
						out = append(fmt.Appendf(nil, "Content-Length: %d\r\n\r\n", len(frame)), frame...)
					}
					if _, err := b.Write(out); err != nil {
						return
					}
				}
			}()
			var wg sync.WaitGroup
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						<-wake
						msg := fmt.Appendf(nil, `{"s":%d,"i":%d}`, s, i)
						if err := tr.Send(context.Background(), msg); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			// Read every frame back and check it; a frame lost would
			// leave the reader waiting, so the pipe closes after a while.
			stop := time.AfterFunc(20*time.Second, func() { _ = b.Close() })
			defer stop.Stop()
			got := readFrames(t, b, f, senders*each)
			wg.Wait()
			last := make(map[int]int)
			for _, fr := range got {
				var s, i int
				if _, err := fmt.Sscanf(fr, `{"s":%d,"i":%d}`, &s, &i); err != nil {
					t.Fatalf("frame %q: %v", fr, err)
				}
				if prev, ok := last[s]; ok && i != prev+1 {
					t.Fatalf("sender %d: %d after %d", s, i, prev)
				}
				last[s] = i
			}
			t.Logf("%d frames in %d writes", len(got), cc.writes.Load())
		})
	}
}

// inboundFunc is an rpc.Inbound that passes each message to a function.
type inboundFunc func([]byte)

func (f inboundFunc) OnMessage(msg []byte) { f(msg) }
func (inboundFunc) OnClose(error)          {}
func (inboundFunc) MaxMessageSize() int    { return 1 << 20 }

// readFrames reads n frames of framing f from r.
func readFrames(t *testing.T, r io.Reader, f stream.Framing, n int) []string {
	t.Helper()
	br := bufio.NewReader(r)
	out := make([]string, 0, n)
	for len(out) < n {
		if f == stream.Lines {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("after %d frames: %v", len(out), err)
			}
			out = append(out, strings.TrimSuffix(line, "\n"))
			continue
		}
		var size int
		if _, err := fmt.Fscanf(br, "Content-Length: %d\r\n\r\n", &size); err != nil {
			t.Fatalf("after %d frames: header: %v", len(out), err)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatalf("after %d frames: body: %v", len(out), err)
		}
		out = append(out, string(body))
	}
	return out
}
