// Package nats makes the clients of several Parley servers (nodes)
// reachable from every node, over NATS (github.com/nats-io/nats.go).
//
// One server holds a client's connection; behind a load balancer, the
// node that wants to call that client is often another one. A [Node]
// joins a server's [rpc.PeerSet] to a NATS system so that any node can
// call or notify any client by id, call or notify all of them and gather
// the answers, and see which clients are connected where:
//
//	var peers rpc.PeerSet
//	node, err := nats.NewNode(&peers, &nats.Options{URL: "nats://nats.internal:4222"})
//	...
//	defer node.Close()
//	srv, _ := websocket.NewServer(&websocket.ServerOptions{Handler: h, Peers: &peers})
//	...
//	var answer string
//	err = node.Call(ctx, "alice", "confirm", params, &answer) // wherever alice is
//	replies := nats.CallAll[string](ctx, node, "ping", nil, 2*time.Second)
//
// Nodes share nothing but NATS: no node knows another's address, and none
// is in charge. A node answers, on subjects of its own, for the clients it
// holds.
//
// # Which NATS
//
// Give [Options.URL] (and [Options.NATS] for credentials, TLS and the
// like, as nats.go takes them) or an [Options.Conn] you made. In
// production, nodes on several machines connect to a NATS server or
// cluster that runs on its own (nats-server, or a hosted NATS): that is
// what keeps working when one machine goes. A single binary that runs
// several nodes in one process, tests and the examples start an embedded
// nats-server in process instead (see examples/cluster): the same code,
// but everything ends with that process. Any NATS 2.2 or later works
// (headers carry no-responders answers); JetStream is not used.
//
// # Subjects and messages
//
// P is [Options.Prefix], "parley" by default. Each node subscribes to:
//
//	P.peer.<id>          one subscription per client it holds, in queue
//	                     group "parley"; <id> is the client's id in
//	                     base64url without padding, so any id is one token
//	P.all                calls and notifications to every client
//	P.cancel             cancellations
//	P.presence           joins, leaves, heartbeats, goodbyes
//	P.node.<name>.sync   requests for its whole list of clients
//	P.node.<name>.ping   pings from nodes that stopped hearing from it
//	                     (answered with an empty message)
//	P.topic.<pattern>    with a hub ([Node.NewHub]): one per topic pattern
//	                     with a subscriber on this node, as it is (the
//	                     hub's patterns are NATS's)
//	P.proc.<name>        with a hub: one per procedure registered on this
//	                     node, in queue group "parley" (<name> in base64url)
//	<inbox>.*            answers to its own requests (<inbox> from
//	                     nats.go's NewInbox, so a custom inbox prefix holds)
//
// Calls travel in a compact binary form: a version byte (1), an operation
// byte, then fields, each an unsigned varint or a string (a varint length
// and the bytes). Params and results are carried as the bytes a codec
// wrote, named by the codec's name, never re-encoded when the client
// speaks that codec.
//
//	request (ops 'c' call, 'n' notify to P.peer.<id>; 'C' call all,
//	         'N' notify all to P.all), with a reply subject:
//	    1 op origin-node key method timeout-ms count (codec bytes)*
//	routed call ('r', or 'R' when the caller wants partial results, to
//	         P.proc.<name>): as a request, method being the procedure
//	event ('p', to P.topic.<topic>): 1 'p' origin-node epoch seq codec data
//	cancel ('x', to P.cancel): 1 'x' origin-node key
//	answers ('a', to the request's reply subject):
//	    1 'a' node final(0|1) total answer*
//	answer: id status ...
//	    'o' ok:           codec result
//	    'e' error:        code(signed varint) message codec data
//	    'h' hub error:    code message codec data (the serving hub's own)
//	    'p' partial:      codec value (a routed call's partial result)
//	    'u' unreachable, 'l' connection lost, 'f' failed: message
//
// The key is the origin's number for the request; with the origin's name it
// names the call in a cancel. A call to one client gets one final chunk
// holding one answer (its id empty). A call to all gets, from each node,
// chunks of answers as they come in, the last one final, with the number
// of answers that node sent in all. A routed call gets first an empty
// chunk naming the serving node (whose loss then ends the call), partial
// results if asked for, and one final answer. An event's epoch (random per
// node) and seq (1, 2, 3...) let a node whose several patterns match one
// publish deliver it once. NATS's own no-responders status (503)
// on the reply subject says that no node holds the id.
//
// Presence messages are JSON, on P.presence:
//
//	{"op":"delta","node":"n1","seq":8,"join":[{"id":"alice","at":1719…,"codec":"json"}],"leave":["bob"]}
//	{"op":"hb","node":"n1","seq":8,"n":1200,"digest":1234567,"every":1000}
//	{"op":"bye","node":"n1"}
//
// and, in answer to a request on P.node.<name>.sync, chunks of
// {"op":"snap","node":"n1","seq":8,"join":[...],"more":true}, the last
// without "more". A node numbers its deltas 1, 2, 3...; a heartbeat
// carries the number of the last one, the count of its clients and the
// XOR of the 64-bit FNV-1a hashes of their ids. A node that sees a gap in
// the numbers, or a heartbeat that does not match its view, asks for the
// whole list and applies the deltas that follow it: so a lost message, a
// restart of NATS or a node that joins late heals by itself within a
// heartbeat or two.
//
// # Guarantees
//
// NATS core delivers each message at most once, in order from one
// publisher to one subscriber. So, across nodes:
//
//   - A call or notification runs on the client at most once; nothing is
//     retried. It ends with the client's answer, the client's error (an
//     [*rpc.Error] for which [rpc.IsRemote] holds), the caller's context
//     error (the holding node then cancels the client's call, which gets
//     $/cancelRequest), [rpc.ErrConnectionLost] (the client's connection
//     ended first), or [ErrUnreachable] (no node holds the id; its node left
//     the view mid-call; or this node's link to NATS is down). When none of
//     these comes, because a message was lost, the deadline ends it: the
//     context's, or [Options.Timeout] when the context has none. Never a
//     hang. A notification returns once the holding node has handed it to
//     the client's connection.
//   - Ordering: calls and notifications that one goroutine sends to one
//     client of another node leave in order, but each is handled on its
//     own goroutine on the holding node: no order is promised between
//     them, as none is between concurrent calls on one connection.
//   - CallAll and NotifyAll give one reply per client, never two; see
//     [CallAll] for when they stop waiting. A client that joins while they
//     run may or may not be included.
//   - Failure bound: a node not heard from for three of its heartbeats
//     (3 s with the default of 1 s; an answer from it counts as hearing
//     from it) gets a ping on P.node.<name>.ping. A node that died (its
//     process ended, so NATS dropped its connection) gets NATS's
//     no-responders at once and leaves the others' view then: within three
//     of its heartbeats plus one of the observer's. A node cut off from NATS
//     or hung leaves when the ping has gone unanswered for three more of
//     its heartbeats (at least 5 s): late heartbeats from a node that is
//     only busy do not drop it. An observer whose own timer ran late waits
//     another round rather than blame the others. The dead node's clients
//     leave with it, and calls waiting on them
//     end with [ErrUnreachable] then, not at their deadline. A node that
//     closes says goodbye and leaves at once. When a node's own link to
//     NATS drops, every call it waits for ends at once with
//     [ErrUnreachable], new ones fail at once until the link is back, and
//     the calls it runs for others are cancelled; nats.go reconnects by
//     itself (for ever, when the node made the connection) and the views
//     heal.
//   - One id, two nodes: on one node [rpc.PeerSet.Add] refuses an id that
//     is taken. Across nodes the newer connection wins: a client that
//     reconnects to another node before its old node noticed the old
//     connection end is reachable at the new one, and the old node closes
//     the old connection when it hears of the new (ties go to the greater
//     node name). For that moment a call may reach either.
//   - Hub publishes ([Node.NewHub]) are at most once, in order from one
//     node to the subscribers of another, each delivered once per
//     subscriber however many of its node's patterns match. Routed calls
//     run at most once and end as [hub.Hub.Call] says, with the callee's
//     node leaving ending them with [hub.CodeCalleeGone].
//   - A join is announced after the node's subscription for it reached its
//     NATS server; in a NATS cluster, interest crosses to the other servers
//     a moment later, so a call sent at once from a node on another server
//     may get no-responders ([ErrUnreachable]).
package nats
