package hostile

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Conn is a raw client connection to a server-side peer: the checker sends
// the codec's bytes as they are and reads what the server answers. Each
// adapter's test implements it over its transport, armouring the bytes as
// the adapter expects (base64 text for CBOR over SockJS and Socket.IO) and
// removing the armour from what it receives.
type Conn interface {
	// Send sends msg as one message of the transport.
	Send(ctx context.Context, msg []byte) error
	// Recv returns the next message from the server. Once the server has
	// closed the connection (or it failed), it returns an error that
	// wraps ErrConnClosed; when ctx ends first, ctx's error.
	Recv(ctx context.Context) ([]byte, error)
	// Close closes the connection. It is idempotent.
	Close() error
}

// ErrConnClosed is wrapped by the error [Conn.Recv] returns once the
// connection has ended.
var ErrConnClosed = errors.New("hostile: connection closed")

// NewConn makes a [Conn] from blocking functions: read returns the next
// message or an error once the connection has ended, write sends one
// message, close closes the connection (making a read in progress fail).
// A goroutine reads ahead into a small buffer; it ends when read fails or
// the Conn is closed. write calls are serialised.
func NewConn(read func() ([]byte, error), write func([]byte) error, close func() error) Conn {
	c := &funcConn{
		write:  write,
		close:  close,
		msgs:   make(chan []byte, 16),
		closed: make(chan struct{}),
		ended:  make(chan struct{}),
	}
	go c.readLoop(read)
	return c
}

type funcConn struct {
	wmu   sync.Mutex
	write func([]byte) error
	close func() error

	msgs   chan []byte
	closed chan struct{} // closed by Close
	once   sync.Once
	ended  chan struct{} // closed when the read loop has stopped; err is set then
	err    error
}

func (c *funcConn) readLoop(read func() ([]byte, error)) {
	defer close(c.ended)
	for {
		msg, err := read()
		if err != nil {
			c.err = fmt.Errorf("%w: %w", ErrConnClosed, err)
			return
		}
		select {
		case c.msgs <- msg:
		case <-c.closed:
			c.err = ErrConnClosed
			return
		}
	}
}

func (c *funcConn) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.write(msg)
}

func (c *funcConn) Recv(ctx context.Context) ([]byte, error) {
	// Messages read before the end come first.
	select {
	case m := <-c.msgs:
		return m, nil
	default:
	}
	select {
	case m := <-c.msgs:
		return m, nil
	case <-c.ended:
		select {
		case m := <-c.msgs:
			return m, nil
		default:
		}
		return nil, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *funcConn) Close() error {
	var err error
	c.once.Do(func() {
		close(c.closed)
		err = c.close()
	})
	<-c.ended
	return err
}
