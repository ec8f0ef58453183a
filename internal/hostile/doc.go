// Package hostile is Parley's hostile-input corpus and the checker that
// runs it against a server-side peer over any adapter.
//
// A network peer can send anything: bytes that do not parse, nesting a
// hundred thousand levels deep, arrays of a million elements, values and
// batches at and just over each decoding limit, duplicate keys, ids of every type, wrong param types,
// method names reserved for the protocol, batches of garbage, messages one
// byte over the limit, and floods: more calls than the peer runs at once,
// a hundred thousand $/cancelRequest notifications for ids that do not
// exist. The promise under test is the one of DESIGN.md: each gets a clear
// error answer or a clean close, never a panic, a hang or unbounded memory,
// and the connection stays usable unless it was closed.
//
// [Corpus] builds the cases for a codec (JSON text or CBOR bytes, built by
// code), each with the outcome it must have: an answer with a given error
// code and id, a result, a batch of answers, no answer at all, or a close.
// [Run] takes a [Target] (a way to open a raw connection to a server whose
// peers use [Service.PeerOptions], implemented by each adapter's test) and
// runs every case, then checks that the connection still answers a real
// call; then the floods ([Flood], [CancelFlood]); then that the heap grew
// by no more than a generous bound.
//
// The package imports only rpc, the codecs and the standard library, so
// every adapter's tests can use it; the adapters' own test files speak the
// transport (gorilla for adapters/websocket, a raw WebSocket client for
// SockJS and Socket.IO).
package hostile
