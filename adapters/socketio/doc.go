// Package socketio serves JSON-RPC 2.0 over Socket.IO: one [rpc.Peer] per
// socket.io connection, on one event of one namespace of a
// github.com/googollee/go-socket.io (v1.7.0) server you already have.
//
// # Which clients
//
// go-socket.io v1.7.0 speaks Engine.IO 3, so only socket.io-client 2.x
// connects (tested: 2.5.0); clients 3.x and 4.x are refused by the
// handshake. Give the client transports: ['websocket']: with the default
// polling-then-upgrade, go-socket.io answers a POST sent during the upgrade
// with 400 and the client drops.
//
// # Wiring
//
//	io := gosocketio.NewServer(nil)               // github.com/googollee/go-socket.io
//	peers := new(rpc.PeerSet)
//	srv, err := socketio.Attach(io, &socketio.ServerOptions{
//		Handler: router,                          // an *rpc.Router
//		Peers:   peers,                           // each peer under conn.ID()
//	})
//	go io.Serve()
//	http.Handle("/socket.io/", io)                // the client's path
//
// A handler finds its caller with rpc.PeerFromContext(ctx) and its id with
// peers.ID; the server calls one client with peers.Call and all of them
// with rpc.CallAll. ServerOptions.Accept sees each connection
// (conn.RemoteHeader(), conn.URL()) before its peer exists: authenticate
// there, and return rpc.WithValue(key, user) so that handlers see who
// called. ServerOptions.OnConnect gets each new peer (it cannot refuse:
// Accept can); [Server.PeerOf] finds the peer of a connection from your
// own event handlers.
//
// # What Attach registers
//
// On the namespace (default "/"), exactly four handlers: OnConnect,
// OnDisconnect, OnError and OnEvent for the event (default "rpc"). Your
// other events and namespaces are left alone. go-socket.io keeps a single
// OnConnect, OnDisconnect and OnError per namespace and replaces them
// without a word, so:
//
//   - pass your own in ServerOptions.SocketOnConnect, SocketOnDisconnect
//     and SocketOnError; the adapter calls them (yours runs first on
//     connect and may refuse the connection; on disconnect, after the
//     peer has been told);
//   - Attach returns an error if the namespace has one of the four already,
//     rather than replace it;
//   - do not register one of them on the namespace after Attach: it would
//     replace the adapter's, which then stops working there.
//
// A panic in your SocketOnConnect, SocketOnDisconnect or SocketOnError,
// or in Accept or OnConnect, is recovered and logged (go-socket.io does not recover these and
// the process would crash); on connect it refuses the connection.
//
// # Messages on the event
//
// Every message is one string argument of the event, both ways: the
// server's calls, notifications and answers are emitted on the event, and
// the client answers and calls by emitting on the same event. Socket.IO
// acknowledgements are not used (an unanswered ack never times out); an
// ack callback the client passes is never called.
//
// Socket.IO's own acknowledgements are not served as calls here, as the
// socketio4 adapter serves them, because go-socket.io v1.7.0 cannot do it
// safely: it has no catch-all listener (every event would have to be
// registered by name before serving, and methods registered later would
// be missed), the arguments of an event are decoded into the types its
// handler declares and a mismatch drops the client, and emits with an
// acknowledgement race on its ack counter with any the application makes
// itself. For acknowledgements as calls, move to socket.io-client 4 and
// the socketio4 adapter.
//
// The codec is chosen per connection by the handshake URL's query
// parameter [QueryCodec]: none or "json" is JSON-RPC 2.0 as JSON text;
// "cbor" is the CBOR codec, its bytes carried as standard base64 (with
// padding) in the string, both ways. With socket.io-client 2:
// io(url, {transports: ['websocket'], query: {codec: 'cbor'}}).
//
// Why base64 rather than socket.io binary attachments: go-socket.io v1.7.0
// attaches binary frames to arguments declared as parser.Buffer by trusting
// the "num" of the placeholder the client sends, and a placeholder whose
// num is not below the packet's attachment count (one text packet does it:
// 2["event",{"_placeholder":true,"num":0}]) makes it index out of range on
// the connection's read goroutine, which crashes the whole process. The
// adapter therefore declares no parser.Buffer; binary attachments sent on
// its event are dropped and answered with an error. Do not declare
// parser.Buffer arguments in your own handlers on a server that untrusted
// clients reach.
//
// A payload that is not a message gets a JSON-RPC error answer with a null
// id, in the connection's codec, and the connection stays up: an argument
// that is not a string (number, object, array, boolean, null, none, binary)
// gets -32600, a string that is not valid base64 on a CBOR connection
// -32700; the peer itself answers text that does not parse (-32700) and
// messages over its limit (-32600, [rpc.WithMaxMessageSize]). The
// adapter's event argument cannot fail to decode, so go-socket.io never
// drops a connection over it (it drops the client for an argument that
// does not decode into the type your own handler declares). Arguments
// after the first are ignored.
//
// go-socket.io reads a whole packet into memory before any handler sees it
// and has no read limit of its own: the size limit saves the decoding, not
// the reading.
//
// # Flow control and closing
//
// go-socket.io calls a connection's event handlers one at a time, in order,
// on that connection's read goroutine. The adapter hands each message to
// the peer there, so a peer that holds a message (all its handler slots
// busy) stops reading that connection only: backpressure per client. While
// it does, the connection's Engine.IO pings go unanswered; held longer than
// the ping timeout (60 s by default), the client or server drops the
// connection.
//
// Outbound messages go through a per-connection queue
// (of the peer's send-queue size, rpc.DefaultSendQueue unless
// PeerOptions set rpc.WithSendQueue) to one writer goroutine, which emits them one at a
// time. So Send honours its context while it waits for room, the peer can
// send from any goroutine (OnConnect and the connect handler included, where
// a direct emit would deadlock), and the adapter's emits on a connection
// never run concurrently. The writer's Emit itself has no context: it waits
// for go-socket.io's writer, which a client that stops reading holds up
// until the connection closes (at the latest when go-socket.io's ping
// timeout expires). Meanwhile the queue fills and Send waits, each caller
// up to its own context's end.
//
// When a connection ends, its peer is told once, after the last message it
// was handed: with io.EOF (wrapped in rpc.ErrConnectionLost) when the
// client left, with the error go-socket.io reported for the connection, if
// it reported one first (best effort: go-socket.io reports errors and
// disconnects from different goroutines), or as closed when this side
// closed it. Closing a peer closes its whole socket.io connection, every
// namespace of it: go-socket.io cannot end one namespace from the server.
// A refused connection is closed the same way (see the traps below).
//
// # go-socket.io traps the adapter cannot remove
//
//   - Server.Close of go-socket.io only stops accepting: it closes no
//     connection, and a handshake that completes after it panics the
//     process (send on a closed channel). Shut down in this order: stop the
//     HTTP server (http.Server.Shutdown), call [Server.Close] (which closes
//     the namespace's connections), wait for go-socket.io's Count to drop
//     if you can, then call go-socket.io's Server.Close.
//   - A polling handshake that is never followed by a poll leaves a session
//     in go-socket.io's table for good (Count grows); the adapter never
//     sees it, because go-socket.io calls no handler for it. Serve the
//     websocket transport only if you can (engineio.Options.Transports),
//     which also avoids the upgrade failures above. ServerOptions.IdleTimeout
//     closes connections that did get through and then say nothing.
//   - A connection whose read goroutine fails on a malformed packet header
//     leaves one of go-socket.io's goroutines behind for 30 seconds (a
//     watchdog on the unclosed frame reader), then it ends.
//   - An OnConnect handler on "/" that returns an error leaves the session
//     in go-socket.io's table for good; the adapter refuses by closing the
//     connection and returning nil instead. Do the same in handlers of
//     your own.
//   - Emitting inside an OnConnect handler on "/" deadlocks the connection
//     for good; emitting with an ack callback from several goroutines races
//     on go-socket.io's ack counter. The adapter does neither; plain emits
//     without acks may run concurrently with it.
//   - Cross-origin browsers: set CheckOrigin on both Engine.IO transports
//     of your server; polling then echoes the Origin with credentials
//     allowed, so check against an allowlist.
//   - go-socket.io drops every connection, to any namespace, unless
//     namespace "/" has a handler: when the adapter serves another
//     namespace, register something on "/".
package socketio
