// Package hub routes between the peers of a server: WAMP's two patterns,
// publish/subscribe and routed calls, over plain JSON-RPC 2.0.
//
// A [Hub] is mounted on a server's router beside its own methods:
//
//	h, _ := hub.New(&hub.Options{Authorize: allow})
//	defer h.Close()
//	router := rpc.NewRouter()
//	router.Register("echo", echo) // the server's own methods
//	h.Mount(router)               // the hub's, all named "hub.…"
//	srv, _ := websocket.NewServer(&websocket.ServerOptions{Handler: router})
//
// Clients then subscribe to topics and publish to them, register
// procedures and call each other's, with nothing but JSON-RPC 2.0 calls to
// the methods below; Go code on the server does the same through the Hub's
// methods ([Hub.Publish], [Hub.Subscribe], [Hub.Call], ...).
//
// # Topics
//
// Topics are NATS-style: dot-separated tokens ("chat.lobby"). A
// subscription names a pattern, where "*" stands for one token and a final
// ">" for one or more: "chat.*" matches "chat.lobby" but not
// "chat.lobby.typing"; "chat.>" matches both. (NATS's tokens rather than
// WAMP's match policies, so that a cluster over NATS maps topics onto
// subjects as they are.) Each publish reaches each subscriber once,
// however many of its patterns match, as the notification
//
//	{"jsonrpc": "2.0", "method": "hub.event", "params": {"topic": "chat.lobby", "data": ...}}
//
// The publisher is left out unless it asks (WAMP's exclude_me). The data
// is encoded once per codec in use, not once per subscriber, and queued
// for each subscriber: a publish never waits for a slow one. Each
// subscriber's queue is bounded ([Options.MaxQueuedEvents]); events that do
// not fit are dropped for that subscriber, and a client that stops reading
// altogether is dropped by its adapter's slow-consumer policy (the
// WebSocket adapter's write timeout). A peer that ends leaves every topic.
//
// # Routed calls
//
// A client registers a procedure name; a call to it through the hub
// ("hub.call", or [Hub.Call] from Go) is forwarded to a registrant as an
// ordinary call of that method, and its answer or error comes back as it
// is. When several clients register one name, its [Policy] picks the
// callee: [Single] (the default: one registrant only), [RoundRobin],
// [Random], [First] or [Last]. The caller's cancellation reaches the
// callee as $/cancelRequest; a call's timeout (its own "timeout", or
// [Options.CallTimeout]) ends it with [CodeTimeout] and cancels the callee
// too; a callee that disconnects ends its pending routed calls at once
// with [CodeCalleeGone]. Nothing is retried. Partial results
// ([rpc.Progress]) pass through: a caller that puts a "partialResultToken"
// in its hub.call params receives the callee's partial results as
// $/progress notifications with its own token, before the answer.
//
// A routed call costs two calls' worth of goroutine hand-offs: the hub
// waits for the callee's answer on a goroutine of its own, and the callee
// runs its handler on one. A Go callee whose procedures only compute
// should serve them with [rpc.Inline] handlers, which saves one of them
// (in internal/bench, a routed call at one in flight took an eighth less
// time on a quiet machine, a quarter less on a busy one).
//
// # Methods
//
// All take named params (an object). Errors are JSON-RPC errors: -32602
// for bad params or names, and the codes in this package
// ([CodeNotAuthorized], [CodeLimit], ...).
//
//	hub.subscribe   {"topic": pattern}                      → true
//	hub.unsubscribe {"topic": pattern}                      → whether it was subscribed
//	hub.publish     {"topic": topic, "data": any,
//	                 "excludeMe": bool (default true)}      → events queued on this node
//	hub.register    {"procedure": name,
//	                 "policy": "single"|"roundrobin"|"random"|"first"|"last"} → true
//	hub.unregister  {"procedure": name}                     → whether it was registered
//	hub.call        {"procedure": name, "params": object or array,
//	                 "timeout": milliseconds,
//	                 "partialResultToken": string or number} → the callee's result
//
// hub.publish may also be sent as a notification, when the publisher does
// not want to hear of refusals. Procedure names are method names outside
// the reserved prefixes ("rpc.", "$/", "hub.").
//
// # Authorization and bounds
//
// [Options.Authorize] decides every subscribe, publish, register and call
// a client asks for, by peer and name, with the identity the connection
// got at its handshake (read with p.Value). A refusal is a JSON-RPC error,
// never silence. Everything a client can make the hub hold is bounded:
// patterns per peer, subscribers per pattern, registrations per peer,
// registrants per procedure, routed calls in flight, events queued per
// subscriber, and the length of names.
//
// # Clusters
//
// A [Cluster] carries publishes and calls to other nodes and learns which
// patterns and procedures this node has; see adapters/nats.
package hub
