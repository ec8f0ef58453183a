// Command stdio is a JSON-RPC 2.0 tool that an editor, or any program,
// starts as a child process and talks to over its standard input and
// output, the way language servers and MCP servers run. It counts the
// words of a text (sending partial results, line by line, to a caller that
// asks for them), greets the user after asking the editor for the user's
// name (a call from the tool to its client), and describes itself
// (rpc.discover, OpenRPC).
//
//	go build -o /tmp/wordtool ./examples/stdio
//	node examples/stdio/testdata/client.js /tmp/wordtool   # after npm ci in examples/stdio
//
// By default messages are framed as the Language Server Protocol frames
// them (Content-Length headers); -lines switches to newline-delimited
// JSON, as MCP's stdio transport speaks it. The tool logs to standard
// error only: standard output carries the messages.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/parleyrpc/parley/adapters/stream"
)

func main() {
	lines := flag.Bool("lines", false, "newline-delimited JSON instead of Content-Length headers")
	flag.Parse()
	framing := stream.Header
	if *lines {
		framing = stream.Lines
	}
	if err := serve(stream.Stdio(), framing, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "wordtool:", err)
		os.Exit(1)
	}
}
