package rpc

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
)

// pipeBuffer is how many messages each direction of a Pipe holds before
// Send waits.
const pipeBuffer = 64

// Pipe returns the two ends of an in-memory, message-oriented link, for
// tests and for joining two peers in one process. Each end is a
// [Transport] for one [Peer]. Messages are copied on Send; each direction
// buffers a few messages, then Send waits for the reader. Closing either
// end closes both: the closing end's peer sees net.ErrClosed, the other
// io.EOF.
func Pipe() (Transport, Transport) {
	s := &pipeState{done: make(chan struct{})}
	a := &pipeEnd{state: s, in: make(chan []byte, pipeBuffer)}
	b := &pipeEnd{state: s, in: make(chan []byte, pipeBuffer)}
	a.other, b.other = b, a
	return a, b
}

// pipeState is shared by both ends of a pipe.
type pipeState struct {
	once   sync.Once
	done   chan struct{}
	closer *pipeEnd
}

type pipeEnd struct {
	state   *pipeState
	in      chan []byte // messages for this end
	other   *pipeEnd
	inbound Inbound
}

// Start delivers this end's messages to in from one goroutine.
func (e *pipeEnd) Start(in Inbound) {
	e.inbound = in
	go e.read()
}

// read delivers messages until the pipe closes.
func (e *pipeEnd) read() {
	for {
		// Once closed, deliver nothing more, even if messages wait.
		select {
		case <-e.state.done:
			e.inbound.OnClose(e.closeErr())
			return
		default:
		}
		select {
		case msg := <-e.in:
			e.inbound.OnMessage(msg)
		case <-e.state.done:
		}
	}
}

func (e *pipeEnd) closeErr() error {
	if e.state.closer == e {
		return net.ErrClosed
	}
	return io.EOF
}

// Send copies msg to the other end.
func (e *pipeEnd) Send(ctx context.Context, msg []byte) error {
	select {
	case <-e.state.done:
		return fmt.Errorf("rpc: pipe: %w", net.ErrClosed)
	default:
	}
	m := append(make([]byte, 0, len(msg)), msg...)
	select {
	case e.other.in <- m:
		return nil
	case <-e.state.done:
		return fmt.Errorf("rpc: pipe: %w", net.ErrClosed)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes both ends.
func (e *pipeEnd) Close() error {
	e.state.once.Do(func() {
		e.state.closer = e
		close(e.state.done)
	})
	return nil
}
