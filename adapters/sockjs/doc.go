// Package sockjs serves Parley peers over SockJS, with
// github.com/igm/sockjs-go/v3: one [rpc.Peer] per SockJS session, so that
// a browser (or node) using the npm sockjs-client calls the server and
// answers the server's calls over whichever transport SockJS picks:
// websocket, xhr-streaming, xhr-polling, eventsource and the rest.
//
// # Serving
//
// Build a [Server] from [ServerOptions], then mount the http.Handler it
// builds:
//
//	srv, err := sockjs.NewServer(&sockjs.ServerOptions{
//		Handler: router, // an rpc.Handler, shared by every session
//		Peers:   peers,  // optional *rpc.PeerSet
//	})
//	...
//	defer srv.Close()
//	mux.Handle("/rpc/", srv.Handler("/rpc", nil)) // nil: sockjs.DefaultOptions()
//
// [Options], [Session] and [DefaultOptions] are sockjs-go's, named in this
// package so that one import serves: change a copy to enable the raw
// websocket endpoint, say:
//
//	opts := sockjs.DefaultOptions()
//	opts.RawWebsocket = true
//	mux.Handle("/rpc/", srv.Handler("/rpc", &opts))
//
// [Server.Handler] copies the options it is given (the caller's copy, and
// the websocket upgrader it points to, are never modified), checks origins
// and applies [ServerOptions.ReadLimit]. To mount [Server.HandleSession]
// with sockjs-go's NewHandler yourself, wrap the result in [Server.Guard]
// and set [Server.CheckOrigin] in the options and their upgrader, for the
// same checks.
//
// Each session gets its own Peer. [ServerOptions.Accept], if set, sees the
// session first, before the Peer exists: the session's Request (headers,
// cookies, query) and ID are there to authenticate. It may refuse (the
// session is closed with [CloseRefused] and the error's text as the
// reason), or return Peer options for this session, such as
// rpc.WithValue(userKey{}, user), so that handlers find the user in their
// context. Then the Peer is made, with the endpoint's codec; if
// [ServerOptions.Peers] is set, it joins that set under the session id (the
// raw websocket endpoint has no session id: the set makes one up), and
// leaves it by itself when the session ends. Then [ServerOptions.OnConnect],
// if set, is called with the Peer, already serving, on a goroutine of its
// own: it may call the client and wait for the answer.
//
// On the HTTP transports the session id, chosen by the client, is all it
// takes to post messages into the session: treat it as a secret of that
// client and do not show it to others (give clients your own ids for
// that).
//
// # Wire format
//
// SockJS carries text only: one SockJS message (sock.send(text) in the
// browser, a message event on the way back) holds exactly one JSON-RPC 2.0
// message or batch. How the text is made depends on the codec of the
// endpoint:
//
//   - JSON (the default, codec/json): the message is the JSON-RPC 2.0 JSON
//     text itself, as the specification writes it. Any JSON-RPC 2.0 library
//     works unchanged: JSON.stringify the request, JSON.parse each message.
//   - CBOR (codec/cbor, or any codec whose Binary method is true): the
//     message is the standard base64 encoding (RFC 4648 section 4: the
//     alphabet A-Z a-z 0-9 + /, with = padding, no line breaks) of the CBOR
//     bytes of the message. In node, Buffer.from(cborBytes).toString("base64")
//     to send and cbor decode of Buffer.from(text, "base64") to receive; in a
//     browser, btoa/atob over the bytes. The CBOR envelope is described in
//     package codec/cbor (a map with text keys jsonrpc, method, params, id,
//     result, error; no tags, definite lengths only).
//
// A message that is not valid base64 on a CBOR endpoint is answered with a
// -32700 parse error whose id is null (itself base64 CBOR), and the session
// stays open, as for any other message that cannot be parsed.
//
// The codec is fixed per endpoint: SockJS has no handshake to negotiate
// one, so a client picks CBOR by connecting to a URL served by a Server
// whose [ServerOptions.Codec] is CBOR (an rpc.WithCodec in PeerOptions or
// from Accept has no effect). For example, two endpoints sharing one
// PeerSet:
//
//	jsonSrv, _ := sockjs.NewServer(&sockjs.ServerOptions{Handler: router, Peers: peers})
//	cborSrv, _ := sockjs.NewServer(&sockjs.ServerOptions{Handler: router, Peers: peers, Codec: cbor.Codec{}})
//	mux.Handle("/rpc/", jsonSrv.Handler("/rpc", nil))       // new SockJS(".../rpc")
//	mux.Handle("/rpc-cbor/", cborSrv.Handler("/rpc-cbor", nil)) // new SockJS(".../rpc-cbor")
//
// # The raw websocket endpoint
//
// With [Options].RawWebsocket set, sockjs-go also serves a plain
// WebSocket at prefix + "/websocket" (ws://host/rpc/websocket): one text
// frame per message, in the same format as above (JSON text, or base64 text
// for CBOR). Any WebSocket JSON-RPC client can use it; from Go,
// adapters/websocket's Dial with the JSON codec does. A client that sends
// CBOR in binary frames (as adapters/websocket does with the CBOR codec)
// does not fit a CBOR endpoint here: the frame type is not visible through
// sockjs-go, so the bytes must be base64 text. Sessions on this endpoint
// have no id.
//
// # Origins
//
// Cross-origin requests are refused by default: a request carrying an
// Origin header that is neither the server's own (the Origin's host equals
// the request's Host) nor matched by [ServerOptions.AllowedOrigins] (glob
// patterns, the rules of adapters/websocket) gets 403 from
// [Server.Guard], and [Server.HandleSession] closes a session opened by
// such a request with [CloseForbidden] (which matters when it is mounted
// without Guard). Left alone, sockjs-go would serve any origin on its XHR
// transports. Requests without an Origin header pass: browsers send one on
// every cross-origin request; other clients usually send none.
//
// # Limits
//
// Each Peer applies its own maximum message size (rpc.WithMaxMessageSize,
// default 1 MiB) to every decoded message: a larger one is answered with
// -32600 and the session stays open. sockjs-go has no read limit of its
// own: it reads each WebSocket message and each xhr_send body whole into
// memory. So that one client cannot make it buffer gigabytes, [Server.Guard]
// (applied by [Server.Handler]) bounds what it may read with
// [ServerOptions.ReadLimit] (default: four times the Peer's maximum message
// size, room for JSON quoting inside SockJS frames and for the several
// messages sockjs-client packs into one xhr_send): a WebSocket message larger than
// that drops that client's connection (sockjs-client reports a close with
// code 1006); a larger POST body is refused with 413 (sockjs-client closes
// with code 1006, reason "Sending error: Error: http status 413"). Other
// clients are not affected.
//
// # Sending, context and goroutines
//
// The Peer's writes go through session.Send, one at a time. A send waits
// for its turn only as long as its context allows, but a write already
// handed to sockjs-go cannot be interrupted: on a WebSocket it is bounded by
// Options.WebsocketWriteTimeout (which [Server.Handler] sets to
// [DefaultWriteTimeout] when it is zero), on the HTTP transports by the
// http.Server's WriteTimeout, if any, and by the client's connection. While
// a polling client is between two polls, sockjs-go queues outgoing messages
// in memory without a bound; the session ends when no poll comes for
// Options.DisconnectDelay (default 5 s), which bounds that queue in
// time.
//
// Each session's read loop runs in the goroutine sockjs-go starts for the
// session handler; OnConnect, if set, runs on one more, for as long as it
// takes. When a session ends (closed by the client, timed out, or closed
// by [Server.Close] or the Peer's Close), the Peer ends and that goroutine
// returns. sockjs-go keeps a few goroutines of its own per session: for
// the HTTP transports one of them outlives the session's close by up to
// Options.DisconnectDelay, then ends; a WebSocket's end when its
// connection closes. [Server.Close] closes every session and waits for
// the session handlers and OnConnect hooks to return; close the
// http.Server afterwards.
package sockjs
