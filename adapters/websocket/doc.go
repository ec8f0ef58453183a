// Package websocket carries Parley peers over WebSocket, using
// github.com/gorilla/websocket: an http.Handler for servers ([Server]), a
// dialer for clients ([Dial]), and a client that keeps its link up across
// drops and server restarts ([ReconnectingClient]).
//
// # Server
//
// [NewServer] returns an http.Handler. Each connection gets its own
// [rpc.Peer], built from the options: a [ServerOptions.Handler] shared by
// all connections, and per connection whatever [ServerOptions.Accept]
// returns for the request (authenticate there; an error refuses the
// handshake with 401, 403 or the status you choose). The new peer is put in
// [ServerOptions.Peers], if set, and handed with its *http.Request to
// [ServerOptions.OnConnect]. A handler finds the peer that called it with
// [rpc.PeerFromContext], and may call it back.
//
//	srv, err := websocket.NewServer(&websocket.ServerOptions{Handler: router, Peers: &peers})
//	http.Handle("/rpc", srv)
//
// Browsers' cross-origin handshakes are refused (403) unless their origin
// is in [ServerOptions.AllowedOrigins]; clients that send no Origin header
// are not browsers and are let in.
//
// # Codec negotiation
//
// The codec is chosen with the Sec-WebSocket-Protocol header:
//
//   - no subprotocol: JSON-RPC 2.0 in JSON, in text frames, so that any
//     plain JSON-RPC 2.0 WebSocket client works;
//   - "jsonrpc2.json" ([ProtocolJSON]): the same, named explicitly;
//   - "jsonrpc2.cbor" ([ProtocolCBOR]): the CBOR codec, in binary frames.
//
// A codec's subprotocol is "jsonrpc2." followed by its name ([Subprotocol]).
// A client that offers only subprotocols the server does not support is
// refused with HTTP 400 and a body that names the supported ones. When a
// client offers several, its first supported one wins. Inbound messages
// are accepted in text or binary frames alike.
//
// # Limits and failures
//
// The read limit is the peer's maximum message size
// ([rpc.WithMaxMessageSize]). A larger message ends the connection with
// close code 1009; both ends' peers then report [ErrMessageTooLarge]
// (wrapped with [rpc.ErrConnectionLost]), and other connections are not
// affected. A message that is not valid JSON-RPC is answered -32700 and the
// connection stays up; a frame that breaks the WebSocket protocol ends the
// connection (close code 1002).
//
// Each connection has one read loop, which reads every message as it
// arrives and hands it to the peer (see the rpc package's read path);
// writes are serialised per connection, from the sender's goroutine; no
// goroutine is started per message by the adapter.
//
// # Slow consumers
//
// A connection whose other end stops reading is never buffered for:
//
//   - at most [rpc.WithSendQueue] messages per connection wait for it,
//     each held by the goroutine that sends it; further senders wait for a
//     place; every one of them gives up when its own context ends;
//   - a write that makes no progress for the write timeout (default
//     [DefaultWriteTimeout]; up to a tenth more, as the connection's
//     deadline moves in steps rather than for every message) drops the
//     connection with [ErrWriteTimeout]; calls in flight on it end with
//     [rpc.ErrConnectionLost];
//   - a negative write timeout never drops: senders then wait up to their
//     own deadlines, so give broadcasts one;
//   - giving up on a wait, and Close, return promptly even while a write is
//     stuck (Close cuts such a write short).
//
// Other connections are not slowed: each has its own writer lock and
// queue.
//
// # Keepalive, coalescing, endings
//
// Keepalive: each end pings every ping interval (default DefaultPingInterval)
// from a timer; a link from which nothing, not even a pong, has been read for
// two intervals is dropped with ErrKeepaliveTimeout, and every call waiting on it
// fails with rpc.ErrConnectionLost. While the peer stops reading on purpose (all
// its handler slots are busy: backpressure) the silence does not count on that
// side. A connection at rest costs one goroutine, its read loop.
//
// Write coalescing: when several goroutines send on one connection at once (many
// calls in flight, many handlers answering), the frames of those queued behind
// the writer are gathered and written with one system call; a sender then
// returns once its frame is in that connection's bounded buffer, which the last
// sender of the burst writes out. A lone sender writes at once. After handing a
// message to the peer, the read loop yields the processor once before its next
// read, so that the goroutine the message woke (a handler, a waiting caller)
// runs first.
//
// How a connection ended, as [rpc.Peer.Err] reports it (always wrapping
// [rpc.ErrConnectionLost], except after this end's own Close):
// the other end's close frame with code 1000, 1001 or 1005 is a clean
// close (io.EOF); a drop without a close frame reads "dropped without a
// closing handshake" (io.ErrUnexpectedEOF); other close codes carry
// gorilla's *websocket.CloseError.
//
// # Clients
//
// [Dial] returns a peer over a new connection. [NewReconnecting] returns a
// [ReconnectingClient], which re-dials with exponential backoff and jitter,
// keeps its handler for every link, lets calls wait for the link up to
// their context's deadline, fails calls that were in flight at a drop with
// [ErrDisconnected] (never resending them: they may have run), and reports
// each link's start and end to OnConnect and OnDisconnect so that the
// application can subscribe again.
package websocket
