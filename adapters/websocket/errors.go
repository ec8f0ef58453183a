package websocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/rpc"
)

var (
	// ErrMessageTooLarge is why a connection ended when a message exceeded
	// the receiving peer's maximum message size ([rpc.WithMaxMessageSize]).
	// The receiving end closes the connection with close code 1009; both
	// ends' peers then report an error for which errors.Is(err,
	// ErrMessageTooLarge) holds, along with [rpc.ErrConnectionLost].
	ErrMessageTooLarge = errors.New("websocket: message too large")

	// ErrKeepaliveTimeout is why a connection ended when nothing, not even
	// a pong, was read from the other end for two ping intervals.
	ErrKeepaliveTimeout = errors.New("websocket: keepalive timeout: the other end stopped answering pings")

	// ErrWriteTimeout is why a connection ended when a write did not
	// complete within the write timeout: the other end (or the network)
	// stopped taking data. That is the slow-consumer policy: such a
	// connection is dropped rather than buffered for.
	ErrWriteTimeout = errors.New("websocket: write timed out: the other end is not reading")

	// ErrDisconnected ends a [ReconnectingClient] call or notification that
	// was in flight when the link dropped. The call may or may not have run
	// on the other end, so the client never sends it again by itself.
	// errors.Is(err, rpc.ErrConnectionLost) holds for it too.
	ErrDisconnected error = disconnectedError{}
)

type disconnectedError struct{}

func (disconnectedError) Error() string {
	return "websocket: the link dropped while the call was in flight (it may or may not have run)"
}
func (disconnectedError) Unwrap() error { return rpc.ErrConnectionLost }

// errNotSent marks a Send that wrote nothing because the link had already
// ended: the call did not reach the other end, so a [ReconnectingClient]
// may send it on the next link.
var errNotSent = errors.New("websocket: message not sent")

// errLocalClose is the cause reported when this end closed the connection.
var errLocalClose = fmt.Errorf("websocket: connection closed by this end: %w", net.ErrClosed)

// HandshakeError is returned by [Dial] when the server answered the
// WebSocket handshake with an HTTP error: an unsupported subprotocol (400),
// a refused origin (403), a refusal by [ServerOptions.Accept], and so on.
type HandshakeError struct {
	// StatusCode is the HTTP status of the server's answer.
	StatusCode int
	// Message is the start of the answer's body, which says why.
	Message string
}

// Error says the handshake was refused, with the status and the reason.
func (e *HandshakeError) Error() string {
	s := "websocket: handshake refused with HTTP " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unwrap returns gorilla's websocket.ErrBadHandshake.
func (e *HandshakeError) Unwrap() error { return websocket.ErrBadHandshake }

// HTTPError is an error that [ServerOptions.Accept] returns to refuse a
// handshake with a chosen HTTP status (4xx or 5xx), such as 401
// Unauthorized. Other errors refuse it with 403 Forbidden.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Message is the body of the answer.
	Message string
}

// Error returns the status and the message.
func (e *HTTPError) Error() string {
	return "websocket: HTTP " + strconv.Itoa(e.Status) + ": " + e.Message
}

// readError turns the error that ended the read loop into the cause the
// peer reports.
func readError(err error, limit int) error {
	if errors.Is(err, websocket.ErrReadLimit) {
		return fmt.Errorf("%w: a message exceeded the limit of %d bytes (connection closed with code 1009)", ErrMessageTooLarge, limit)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Code {
	case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived:
		return fmt.Errorf("websocket: the other end closed the connection (code %d): %w", ce.Code, io.EOF)
	case websocket.CloseAbnormalClosure:
		return fmt.Errorf("websocket: the connection dropped without a closing handshake: %w", io.ErrUnexpectedEOF)
	case websocket.CloseMessageTooBig:
		return fmt.Errorf("%w: the other end refused a message as too large (close code 1009 %q): %w", ErrMessageTooLarge, ce.Text, ce)
	}
	return fmt.Errorf("websocket: the other end closed the connection: %w", ce)
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
