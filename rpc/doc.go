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
// arrived, on a goroutine that exists only while notifications wait. A
// handler that panics answers [CodeInternalError]; the peer lives on.
//
// Where a call's handler runs: handing it to a goroutine of its own costs
// more than anything else a small call does beyond the link itself (on an
// idle machine, readying a goroutine wakes another processor). So over a
// transport that can fork its reading (a [Forker]: the WebSocket adapter
// and [Pipe] can), a call that arrives with no other input behind it runs
// on the goroutine that read it, and the reading moves to a new goroutine
// as soon as the handler turns out to block: at once when it calls its own
// peer with its context or when Close is called, otherwise when a watchdog
// finds it still running a millisecond or two later. Until then the
// connection's next messages wait, and after such a fork the peer's calls
// get goroutines of their own for a second. Calls that arrive together,
// calls inside a batch, and every call over a transport that cannot fork
// run on goroutines of their own. None of this changes what a handler may
// do: block, call back, take its time.
//
// The same hand-off, the other way: a caller's answer is read by the
// transport's reading goroutine and handed to the caller. Over a transport
// that lets a waiting caller read for itself (a [CallerReader], as the
// WebSocket adapter is), the caller reads its own answer when nobody else
// is reading; calls from the other end that it reads meanwhile get
// goroutines of their own.
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
// size ([WithMaxMessageSize]), running handlers and waiting notifications
// ([WithMaxConcurrency]), and outbound messages waiting for the transport
// ([WithSendQueue]). A message that is too large or cannot be parsed is
// answered with an error (-32600, -32700) and the connection stays up.
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
