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

// A Forker is a [Transport] that can hand its reading to a new goroutine in
// the middle of a delivery. A peer over a Forker runs a call's handler on
// the goroutine that delivered the call, which saves a goroutine hand-off
// per call, and forks the reading only when the handler turns out to block
// (see the package documentation). Transports that cannot fork still
// work: the peer then gives every call a goroutine of its own.
type Forker interface {
	Transport
	// Fork makes the transport go on reading, and delivering, on a new
	// goroutine, while the OnMessage call in progress runs on by itself;
	// when that call returns, its goroutine leaves the transport and reads
	// nothing more. Fork is called only while an OnMessage call runs, at
	// most once per call, from any goroutine. The rule that OnClose comes
	// after the last OnMessage has returned then holds for the calls that
	// were not forked away: a forked one may still be running.
	Fork()
	// InputPending reports whether more input has already arrived behind
	// the message being delivered, as far as the transport can tell
	// cheaply. The peer then gives the call in hand a goroutine of its own,
	// so that the messages behind it are not held up (under load, that
	// also lets their answers share writes). It is called only from within
	// OnMessage, on the delivering goroutine, before any Fork.
	InputPending() bool
}

// A CallerReader is a [Transport] whose reading a caller waiting for its
// answer can do itself, on its own goroutine, while nobody else reads. The
// answer then reaches the caller without a hand-off between goroutines,
// as in a raw client that writes and then reads; that hand-off is most of
// what a small call costs beyond the link itself (see the package
// documentation). Transports that cannot do this still work: the caller
// then waits for its answer to be handed over.
type CallerReader interface {
	Transport
	// ReadFor reads and delivers messages, exactly as the transport's own
	// reading would (OnMessage one at a time, Fork honoured), on the
	// calling goroutine, until done reports true; done is checked before
	// the first read and after each delivery. It reports whether it
	// stopped because done reported true. It returns false at once,
	// having read nothing, when another goroutine is reading or when it
	// cannot read for this caller (ctx could end while a read cannot be cut
	// short, say); and false when the reading forks away from it, when ctx
	// ends (the transport cuts the read short and reads on without the
	// caller), or when the link ends, which the transport reports through
	// OnClose as ever. The peer calls it with the context of the call
	// waiting.
	ReadFor(ctx context.Context, done func() bool) bool
	// Idle tells the transport, from within OnMessage, that the message
	// being delivered answered the last call the peer awaits: the
	// transport's own reading may stop soon, leaving the next caller to
	// read for itself.
	Idle()
}
