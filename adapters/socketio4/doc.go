// Package socketio4 serves JSON-RPC 2.0 over Socket.IO 4: one [rpc.Peer]
// per socket of one namespace of a github.com/zishang520/socket.io server
// (module servers/socket/v3, v3.0.6) you already have.
//
// # Which clients
//
// The server speaks Socket.IO protocol 5 over Engine.IO 4, so
// socket.io-client 3.x and 4.x connect (tested: 4.8.4 under node, and its
// browser build in headless Chromium), over websocket, polling, and
// polling upgraded to websocket. With the server option SetAllowEIO3(true) the same server
// also serves socket.io-client 2.x (tested: 2.5.0). For an existing
// go-socket.io v1.7.0 server (socket.io-client 2 only) use
// adapters/socketio instead.
//
// # Wiring
//
//	io := socket.NewServer(nil, nil)            // github.com/zishang520/socket.io/servers/socket/v3
//	peers := new(rpc.PeerSet)
//	srv, err := socketio4.Attach(io, &socketio4.ServerOptions{
//		Handler: router,                        // an *rpc.Router
//		Peers:   peers,                         // each peer under its socket's id
//		Accept:  authenticate,                  // the handshake: may return rpc.WithValue(user)
//	})
//	http.Handle("/socket.io/", io.ServeHandler(nil))
//
// Attach adds to the namespace one middleware (the handshake) and one
// "connection" listener, and to each socket a catch-all listener (OnAny)
// and "disconnecting" and "disconnect" listeners. Your own middlewares, listeners and events
// stay yours: the adapter answers only its event and the events its
// Methods option claims.
//
// # Two ways to call, both ways
//
// JSON-RPC 2.0 on one event: every message is one argument of the event
// (default "rpc"), both ways, exactly as a JSON-RPC 2.0 library writes it
// (the npm json-rpc-2.0 package works). The handshake parameter
// [QueryCodec] chooses the codec: "json" (the default) travels as a
// string; "cbor" as one binary attachment (a string of base64 text is
// accepted too). Binary attachments are safe with this server: it checks
// every placeholder against the attachments it received.
//
// Socket.IO's own acknowledgements: an event named for a method the
// router serves is a call. The client's
//
//	const sum = await socket.emitWithAck("add", 1, 2)
//
// reaches the router's "add" with positional params [1, 2] (one object
// argument is named params: emitWithAck("greet", {name}) gives the
// params {name}), and the result comes back as the acknowledgement's one
// argument; an emit without an acknowledgement is a notification. By
// default the events served this way are the methods registered on
// ServerOptions.Handler when it is an [*rpc.Router] (looked up at each
// event, so methods registered later count); ServerOptions.Methods
// decides otherwise. Events the router does not know, the event "rpc",
// names socket.io reserves and names under "$/" or "rpc." are never
// calls. The adapter sees the events before the socket's own middlewares
// (Socket.Use), which do not apply to them.
//
// The other way, the server's
//
//	t, err := rpc.Call[Time](ctx, peer, "localTime", map[string]string{"zone": "UTC"})
//
// reaches the client's socket.on("localTime", (params, ack) =>
// ack(result)): array params are spread as the event's arguments, object
// params go as one argument, and the acknowledgement's argument is the
// result (none is null; several are an array). Notifications are plain
// emits. The handshake parameter [QueryCalls] chooses per client:
// "events" (the default) as just said, or "jsonrpc" for JSON-RPC 2.0
// messages on the event, which a json-rpc-2.0 client on the event
// answers. Both directions of JSON-RPC on the event work whatever the
// choice. The handshake parameters are read from the client's auth object
// (socket.io-client 4: io(url, {auth: {calls: "jsonrpc"}})), else from
// the handshake URL's query (socket.io-client 2: {query: {...}}).
//
// Errors through acknowledgements: a call that fails is acknowledged with
// one argument, {"error": {"code": -32601, "message": "...", "data": ...}}
// (the JSON-RPC error object; data only when there is some). A client
// answers the server's call with an error the same way; any other
// acknowledgement is a result (so a result shaped exactly like that is
// read as an error). On the server, such an answer is an *rpc.Error with
// the client's code, for which rpc.IsRemote holds. A server call that
// gets no acknowledgement within ServerOptions.AckTimeout (default 30 s)
// fails with rpc.CodeDeadlineExceeded (as a remote error: the adapter
// answers for the client); one whose context ends first ends then, with
// the context's error, and a late acknowledgement is dropped; a client
// that disconnects ends its calls with rpc.ErrConnectionLost. A method
// name socket.io reserves ("connect", "disconnect", ...) cannot be sent
// as an event: the call fails with rpc.CodeInvalidRequest.
//
// Calls made as events go through the peer like any other: the same
// handler, interceptors, limits, concurrency, identity and cancellation
// ($/cancelRequest is not sent to an events client: its call is just
// forgotten).
//
// # Handshake, identity and origins
//
// ServerOptions.Accept runs in the namespace middleware, before the peer
// exists: authenticate from s.Handshake().Auth or s.Request(), and return
// rpc.WithValue(key, user) so that every handler (rpc.PeerFromContext(ctx)
// .Value(key)) and interceptor sees who called. Its error reaches the
// client as connect_error. Browser origins are checked there too
// (ServerOptions.AllowedOrigins, the rules of every Parley adapter). The
// engine itself refuses cross-origin WebSocket handshakes unless the
// server's Cors option allows the origin: configure Cors for the origins
// you serve, and let AllowedOrigins decide for this namespace.
//
// # Limits
//
// Message size: the peer's (rpc.WithMaxMessageSize) applies to messages
// on the event and to calls made as events; the engine's
// maxHttpBufferSize (default 1 MB) bounds each packet before that. Send
// queue: each socket's outbound work waits in a queue of the peer's
// send-queue size (rpc.DefaultSendQueue unless PeerOptions set
// rpc.WithSendQueue) for one writer, which hands it to the engine in
// batches and waits for the engine to write each batch before the next:
// a client that stops reading makes Send wait, each caller up to its
// context's end, instead of growing the engine's buffer. Concurrency:
// the peer's (rpc.WithMaxConcurrency); beyond it, the socket's event loop
// waits, which stops that socket's events only.
//
// # Traps of the library that the adapter contains
//
//   - A socket's events and acknowledgements are handled one at a time,
//     on one loop. The adapter only hands messages to the peer there; the
//     peer runs each call's handler on a goroutine of its own, so a
//     handler that waits (for another call, or for the client's answer)
//     holds up nothing. OnConnect also runs on a goroutine of its own.
//   - A panic in a listener is recovered by the library and its
//     acknowledgement never sent: handlers run in the peer, which answers
//     a panic with rpc.CodeInternalError.
//   - An acknowledgement awaited without a timeout waits for ever, and
//     pending acknowledgements vanish silently at a disconnect: every
//     server call has the AckTimeout, and a disconnect ends the peer's
//     calls with rpc.ErrConnectionLost.
//   - Socket.Timeout writes per-socket flags that every Socket.Emit reads
//     and resets, so concurrent Timeout(...).EmitWithAck on one socket
//     lose timeouts and callbacks, and race. The adapter never emits
//     through Socket.Emit or uses the flags: it encodes its packets and
//     writes them with Client.WriteToEngine, under the lock the library's
//     own emits take, and registers its acknowledgements itself. Your
//     code must still serialise its own Timeout calls on a socket.
//   - A polling POST without a Content-Length (chunked) over
//     maxHttpBufferSize is read up to the limit and the truncated payload
//     handled as whole, answered 200: packets past the cut vanish. The
//     adapter adds an engine middleware that reads such a body up to the
//     limit and refuses it with 400 if it is longer; the client's polling
//     transport then fails and reconnects, so its calls fail instead of
//     vanishing. It applies to the whole engine, every namespace.
//   - Not contained: the library writes its answer to a client's
//     namespace CONNECT before it records the socket, and closes the
//     connection of an event that arrives in between ("invalid state").
//     A client that emits the moment it is connected can lose its
//     connection when the server is slow: a raw test client did about
//     half the time under -race; socket.io-client 4 did in a few of 30
//     runs of the 300-socket load test on a loaded machine, and so did
//     Chromium's in a CI run (the library then answers the event's
//     polling POST 429 and drops the session). socket.io-client
//     reconnects by default; a client that must not lose its first
//     events waits for a first message from the server (one sent from
//     OnConnect comes after the socket is recorded), as this package's
//     tests and browser page do.
//   - Do not import the project's Go client (clients/socket/v3) in a
//     program: its init installs a SIGINT/SIGTERM handler that swallows
//     the first SIGTERM. Version v2.5.0 of the project crashes on a
//     two-packet input: use v3.0.6.
//
// # Closing
//
// Closing a peer disconnects its socket (this namespace only; the
// client's other namespaces stay). [Server.Close] refuses new sockets,
// disconnects every socket that has a peer and waits for the peers to
// end; it does not close the socket.io server. Messages a client sent
// before it left reach the peer even if the library still had them queued
// when the connection closed (it reports a close at once, ahead of its
// queue; the adapter waits for the queue), except calls made as events,
// whose acknowledgement could no longer reach the client. When a socket
// ends, its peer is told once, after the last message it was handed: with io.EOF
// (wrapped in rpc.ErrConnectionLost) when the client left, or as closed
// when this side closed it. Connection state recovery, if the server has
// it, does not apply to the adapter's packets: they are not replayed,
// and a recovered socket gets a new peer only if it passes the handshake
// middleware (the server skips middlewares on recovery by default; such a
// socket is disconnected).
package socketio4
