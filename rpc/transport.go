package rpc

import "context"

// Transport moves whole messages between exactly two ends, reliably and in
// order. Adapters (WebSocket, SockJS, Socket.IO, [Pipe]) implement it; a
// [Peer] is its only consumer. A transport is used by one Peer.
type Transport interface {
	// Start begins delivering inbound messages to in. It is called once, by
	// NewPeer. The transport then calls in.OnMessage for each message, one
	// at a time, in arrival order, from one goroutine at a time; while
	// OnMessage runs the transport reads no further (that is the peer's
	// backpressure). When the link ends for any reason, including Close,
	// the transport calls in.OnClose exactly once, after the last
	// OnMessage has returned, with the cause.
	Start(in Inbound)

	// Send transmits one message. It is safe for concurrent use; the
	// transport serialises writes. Send must not keep msg after it returns.
	// It returns once the message is written or handed to the transport's
	// own bounded buffer, or with ctx's error if ctx ends first. Any other
	// error means the link is unusable: the peer then ends at once, with
	// [ErrConnectionLost], and closes the transport.
	Send(ctx context.Context, msg []byte) error

	// Close ends the link. It is idempotent, does not wait for the other
	// end, and leads to OnClose being called if Start was.
	Close() error
}

// Inbound receives what a [Transport] reads. The Peer implements it; a
// transport that wraps another (for tests, say) forwards to it.
type Inbound interface {
	// OnMessage handles one message. The transport hands msg over: it
	// must not modify or reuse msg afterwards. OnMessage may block.
	OnMessage(msg []byte)
	// OnClose reports that the link has ended, and why: nil or an error
	// wrapping net.ErrClosed when this end closed it, io.EOF when the other
	// end closed it cleanly, another error otherwise.
	OnClose(err error)
	// MaxMessageSize is the largest message the peer accepts, in bytes.
	// Transports that can refuse larger messages while reading (WebSocket
	// read limits) should do so.
	MaxMessageSize() int
}
