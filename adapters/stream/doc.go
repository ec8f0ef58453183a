// Package stream carries Parley over byte streams: standard input and
// output, TCP and Unix sockets, a child process's pipes, anything that is
// an io.ReadWriteCloser. That is how the Language Server Protocol and the
// Model Context Protocol speak JSON-RPC 2.0, and how editors and
// command-line tools start and talk to their servers.
//
// # Framing
//
// A byte stream has no message boundaries; a [Framing] cuts them:
//
//   - [Header] (the default) is the LSP's: "Content-Length: N\r\n\r\n" and
//     N bytes. Other headers (Content-Type) are read and ignored. It
//     carries any codec, CBOR included.
//   - [Lines] is newline-delimited JSON, MCP's stdio framing: one message
//     a line. It carries JSON only.
//
// # Serving
//
//	router := rpc.NewRouter()
//	router.Register("add", rpc.Func(add))
//
//	// A tool an editor starts: serve over stdin and stdout.
//	peer, err := stream.NewPeer(stream.Stdio(), &stream.Options{Handler: router})
//	<-peer.Done() // the editor closed our input
//
//	// A server on a socket: a peer per connection.
//	srv, err := stream.NewServer(&stream.ServerOptions{Handler: router, Peers: &clients})
//	go srv.Serve(listener) // net.Listen("unix", path), or "tcp"
//	defer srv.Close()
//
//	// A client that starts its server as a child process.
//	child, err := stream.Start(exec.Command("some-language-server"), &stream.Options{Handler: editorSide})
//	defer child.Close()
//	rpc.Call[Result](ctx, child.Peer(), "initialize", params)
//
// Every peer calls and serves in both directions, as every Parley peer
// does: a language server asks its editor for configuration, an MCP
// server asks its client for a completion, while the other end's calls
// are running. Cancellation ($/cancelRequest) and partial results
// ($/progress with a partialResultToken) follow the LSP, so vscode-jsonrpc
// (tested) works with no Parley code on its side.
//
// # Limits and bad input
//
// The peer's maximum message size (rpc.WithMaxMessageSize) holds while
// framing: a message announced (Content-Length) or read (a line) beyond it
// is never read into memory whole. It is answered at once with -32600 and
// a null id, and skipped: the framing tells where the next message
// starts, so the link goes on. A body is allocated as its bytes arrive, so
// a peer that announces a large message and sends it slowly holds no more
// memory than it has sent.
//
// Bytes that break the framing (a header block without a valid
// Content-Length, two that differ, a header line without a colon or
// longer than [MaxHeaderBytes], a stream cut inside a message) cannot be
// resynchronised: the other end gets a -32700 answer with a null id
// saying what was wrong, and the link ends with an error wrapping
// [ErrFraming]. A line that is not JSON is only a bad message: -32700,
// and the link goes on.
//
// # Writes and slow readers
//
// Writes are serialised per link, whole frames only. Frames sent while
// another is being written are handed to that writer, which writes them
// all at once after its own (up to 256 KiB); a writer that messages just
// delivered may have woken others to answer (handlers, callers) yields
// once first, so that under load many answers share one system call,
// while a lone call writes at once. A Send waiting for its turn gives up
// when its context ends; a write under way
// is not cut short by the context (half a frame would wreck the stream)
// but by the write timeout (WriteTimeout, default [DefaultWriteTimeout]):
// a reader that stops reading for that long gets its link dropped with
// [ErrWriteTimeout], and every call waiting on it ends. Nothing is
// buffered beyond the peer's own bounded send queue, so a stuck reader
// costs a few goroutines and one frame, not a growing pile. Where the
// stream has write deadlines (net.Conn, pipes from os.Pipe, [Stdio] when
// it is a pipe or socket on Unix) they do the timing; elsewhere a write
// that outlasts the timeout closes the stream.
//
// # Codecs
//
// The codec is fixed per link (Options.Codec, ServerOptions.Codec; JSON
// when nil): a byte stream has no handshake to negotiate one. An
// rpc.WithCodec among PeerOptions has no effect.
package stream
