// Package rpc is Parley's core: a symmetric JSON-RPC 2.0 [Peer] over any
// message transport.
//
// # Peers
//
// A WebSocket (or SockJS, or Socket.IO) link only moves messages. A Peer on
// each end turns it into request/response in both directions: either end
// can [Peer.Call] the other, [Peer.Notify] it, send a [Peer.Batch], and
// serve the other's calls with a [Handler]. There is no client or server
// at this level; a browser can serve calls just as a server does.
//
//	router := rpc.NewRouter()
//	router.Register("add", rpc.Func(func(ctx context.Context, p []int) (int, error) {
//		return p[0] + p[1], nil
//	}))
//	peer, err := rpc.NewPeer(transport, rpc.WithHandler(router))
//	...
//	sum, err := rpc.Call[int](ctx, peer, "add", []int{1, 2})
//
// # Transports
//
// A [Transport] moves whole messages: Start (deliver inbound messages to an
// [Inbound]), Send and Close. The adapters under adapters/ provide them for
// WebSocket, SockJS and Socket.IO; [Pipe] joins two peers in memory, for
// tests. Writing one for another link takes a few dozen lines.
//
// # Handlers
//
// A [Handler] serves one call or notification. [Func] adapts a typed
// function, checked by the compiler; [Router.RegisterFunc] takes a plain
// function and checks its signature at registration. Inside a handler,
// [PeerFromContext] returns the peer that received the call, so the
// handler can call back the end that called it, while its own call is
// still open.
//
// Calls run concurrently, at most [WithMaxConcurrency] at once: beyond
// that the peer stops reading, which pushes back on the other end.
// Notifications from one peer are handled one at a time, in the order they
// arrived, on a goroutine that is busy only while notifications wait. A
// handler that panics answers [CodeInternalError]; the peer lives on.
//
// # The read path
//
// A transport reads on one goroutine of its own, always, and hands each
// message to the peer as it arrives: nothing decides when a connection
// gets read, so a call or notification the other end sends is seen at
// once, whatever this end is doing. The peer acts on each message there:
// an answer goes to the waiting caller over a buffered channel (the
// reader never waits on a caller); a call gets a goroutine of its own,
// once a handler slot is free; notifications go to their queue. Those
// goroutines are reused: one that ran a handler waits, parked, for the
// next call of any peer, its stack already grown (a fresh goroutine grows
// and copies its stack as a handler goes deeper, on every call); at most
// 256 wait, each for 10 seconds at most, and none once no peer is open,
// so a test that checks for leaked goroutines finds none. That is
// one hand-off between goroutines per message, the price of a design in
// which a handler may block, call back, or take its time without holding
// up anything else, and a transport author implements Start, Send and
// Close and nothing more. Earlier versions ran handlers on the reading
// goroutine and let callers read their own answers; that saved the
// hand-off but left connections unread between calls (a push could wait
// for a timer) and needed a watchdog: see README's performance section for
// the measurements behind this choice.
//
// A handler that only computes, quickly and without waiting, can be marked
// [Inline]: it then always runs on the reading goroutine, over any
// transport and even when more input waits, with no context or handler
// slot of its own; it holds up the connection while it runs.
//
// # Errors
//
// A handler answers with an error by returning one: an [*Error] is sent as
// it is, a context error as [CodeRequestCancelled] or
// [CodeDeadlineExceeded], anything else as [CodeServerError] with its text.
// A caller receives the other end's error as an *Error for which
// [IsRemote] holds; errors.Is(err, rpc.ErrMethodNotFound) and errors.As
// work on it. Errors that arise on this side are ordinary errors wrapping
// the cause: the context's error when the call's context ended,
// [ErrConnectionLost] when the link dropped while the call waited,
// [ErrClosed] after [Peer.Close].
//
// # Cancellation
//
// When a call's context ends before the answer arrives, Call returns the
// context's error at once and tells the other end with the notification
// $/cancelRequest {"id": ID}, after the Language Server Protocol; the other
// end cancels the handler's context. An answer that arrives later is
// dropped. [WithDefaultTimeout] gives calls without a deadline one.
//
// # Limits
//
// Every resource a remote end can make a peer spend is bounded: message
// size ([WithMaxMessageSize], 1 MiB by default); running handlers, their
// unwritten answers and waiting notifications ([WithMaxConcurrency]);
// outbound messages waiting for the transport, in count ([WithSendQueue])
// and in bytes ([WithSendBytes]); and what decoding a message may cost. The decoding limits are package codec's, the same for every codec,
// so that swapping codecs never changes which messages are taken:
//
//   - a batch holds at most [codec.MaxBatch] (10,000) messages;
//   - a params, result or error data value nests at most [codec.MaxDepth]
//     (128) levels of arrays and maps ([1] is one level);
//   - and holds at most [codec.MaxItems] (100,000) array elements and map
//     members in all, over every level. Decoded into any, an element takes
//     from 16 to a few hundred bytes, so this bounds what one decoding
//     takes to a few tens of MiB, where a 1 MiB message of one-byte CBOR
//     items or three-byte JSON ones would otherwise become up to a hundred.
//
// The answers, the same whatever the codec:
//
//   - a message over the size limit: -32600 with id null (it is not read;
//     a transport may close the connection instead, as WebSocket does with
//     close code 1009);
//   - bytes that are not well-formed JSON or CBOR, at any depth: -32700
//     with id null;
//   - a batch of more than MaxBatch messages: -32600 with id null, once for
//     the whole batch;
//   - params beyond MaxDepth or MaxItems: -32602 with the request's id,
//     when the handler decodes them ([Request.DecodeParams], [Func],
//     [Raw.Decode]): the limits apply to decoding, so a handler that
//     decodes the bytes of [Request.Params] its own way may take larger
//     ones;
//   - a result beyond them: the caller's [Call] fails with an error
//     wrapping [codec.ErrLimit].
//
// The size limit is on bytes, and the same logical message takes more
// bytes in one codec than in the other (JSON spends more on small integers
// and escapes, CBOR on floats that need 64 bits), so near the size limit a
// message may fit in one codec and not in the other; the decoding limits
// are on the logical message, and give both codecs the same verdict.
// Whatever is refused, the connection stays up.
//
// A call holds a place from the moment it is read until its answer is
// written, and there are twice [WithMaxConcurrency] places. So a remote
// end that sends calls and does not read the answers is read no further
// once every place holds an answer (backpressure, not a goroutine per
// call); if its link then takes no data for the transport's write timeout,
// the adapter ends the connection as a slow consumer, and the peer's calls
// end with [ErrConnectionLost] wrapping that cause. The places beyond the
// running handlers let two peers that call each other in bursts keep
// flowing over a link that buffers little; a mutual flood beyond them
// ends with the write timeout ([Pipe], which has none, stalls).
//
// # Servers
//
// A [PeerSet] keeps a server's connected peers by id: call or notify one
// client, or all of them with [CallAll] and [PeerSet.NotifyAll], gathering
// each client's answer or error, each bounded by its own timeout.
//
// # Interceptors
//
// An [Interceptor] wraps calls and notifications in both directions; the
// first given to [WithInterceptors] is the outermost. Every inbound call and
// notification passes through WrapHandler, every outbound one (including
// each item of a batch) through WrapInvoker: none skips them.
package rpc
