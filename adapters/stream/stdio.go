package stream

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// Stdio returns the process's standard input and output as one stream,
// for a process that serves JSON-RPC over stdio (a language server, an
// MCP server, a tool an editor starts):
//
//	peer, err := stream.NewPeer(stream.Stdio(), &stream.Options{Handler: router})
//	...
//	<-peer.Done() // the client closed our input, or the peer was closed
//
// Nothing else may read standard input or write standard output while
// it is in use: one stray fmt.Println breaks the framing. Log to
// standard error.
//
// On Unix, when standard input and output are pipes or sockets (as an
// editor or a parent process sets them up), they are switched to
// non-blocking mode, so that closing the stream ends a read or write in
// progress and writes can have deadlines. Closing the stream closes
// os.Stdin and os.Stdout.
func Stdio() io.ReadWriteCloser {
	r, w := pollable(os.Stdin), pollable(os.Stdout)
	return &stdio{r: r, w: w}
}

type stdio struct {
	r, w *os.File
	once sync.Once
	err  error
}

func (s *stdio) Read(b []byte) (int, error)  { return s.r.Read(b) }
func (s *stdio) Write(b []byte) (int, error) { return s.w.Write(b) }

// SetWriteDeadline bounds writes to standard output, where it can be.
func (s *stdio) SetWriteDeadline(t time.Time) error { return s.w.SetWriteDeadline(t) }

func (s *stdio) Close() error {
	s.once.Do(func() {
		var errs []error
		for _, f := range []*os.File{s.r, s.w, os.Stdin, os.Stdout} {
			if err := f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
				errs = append(errs, err)
			}
		}
		s.err = errors.Join(errs...)
	})
	return s.err
}
