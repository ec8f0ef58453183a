package stream_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
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
