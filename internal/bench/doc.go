// Package bench is Parley's side-by-side benchmark suite. It lives in a
// module of its own so that the libraries it compares Parley with never
// enter the main module's go.mod.
//
// Every scenario does the same work: a call "add" with params [1,2],
// answered 3, over a real loopback WebSocket, with one call in flight
// (sequential) and with 64. The scenarios ([Scenarios]) are:
//
//   - raw: the physical limit, a plain gorilla/websocket exchange of the
//     exact bytes Parley's JSON codec sends and answers ([Request],
//     [Answer]), with no RPC layer at all;
//   - parley-json and parley-cbor: Parley over adapters/websocket, calls
//     from the client to the server (c2s) and from the server to the
//     client (s2c); parley-json-inline, the same with "add" served by an
//     rpc.Inline handler, run on the connection's read loop instead of a
//     goroutine of its own;
//   - sourcegraph: github.com/sourcegraph/jsonrpc2 with its websocket
//     ObjectStream, both directions;
//   - jrpc2: github.com/creachadair/jrpc2 over a small channel.Channel
//     adapter on a gorilla connection, both directions (server to client
//     with its AllowPush extension).
//
// The scenarios run as Go benchmarks (BenchmarkCall in this package's
// tests); cmd/benchreport runs them in interleaved passes and writes the
// markdown table and the ratio chart. [MeasurePush] times server pushes:
// a client calls, the server answers and notifies the client 0 to 3 ms
// later, and the client's handler sees the push some latency after it
// was sent; the server runs in a child process, as it would for users.
// Two more measurements are here because they need connection counts a
// benchmark loop cannot have: [MeasureIdle], the memory and goroutines an
// idle connection costs, and [MeasureFanout], a server calling 10,000
// connected clients at once. Both put the clients in a child process, so
// that each side is measured alone and neither runs out of file
// descriptors.
package bench
