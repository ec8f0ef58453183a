package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/openrpc"
)

// CountParams are the params of "count". A caller that wants partial
// results adds "partialResultToken" (the Language Server Protocol's
// convention): the tool then sends one LineCount per line before its
// answer.
type CountParams struct {
	Text string `json:"text" jsonschema:"the text to count the words of"`
}

// LineCount is one line's count, a partial result of "count".
type LineCount struct {
	Line  int `json:"line"`
	Words int `json:"words"`
}

// CountResult is the answer of "count".
type CountResult struct {
	Lines int `json:"lines"`
	Words int `json:"words"`
}

// count counts words line by line.
func count(ctx context.Context, p CountParams) (CountResult, error) {
	var res CountResult
	for i, line := range strings.Split(p.Text, "\n") {
		n := len(strings.Fields(line))
		res.Lines++
		res.Words += n
		if err := rpc.Progress(ctx, LineCount{Line: i + 1, Words: n}); err != nil {
			return res, err
		}
	}
	return res, nil
}

// greet asks the client (the editor) who the user is, while its own call
// is open, and greets them.
func greet(ctx context.Context, _ struct{}) (string, error) {
	var name string
	if err := rpc.PeerFromContext(ctx).Call(ctx, "editor/userName", nil, &name); err != nil {
		return "", fmt.Errorf("asking the editor for the user's name: %w", err)
	}
	return "Hello, " + name + "!", nil
}

// newRouter is the tool's service.
func newRouter() (*rpc.Router, error) {
	r := rpc.NewRouter()
	err := errors.Join(
		r.Register("count", rpc.Described(rpc.Func(count),
			"Counts the lines and words of a text; with a partialResultToken, sends each line's count first.")),
		r.Register("greet", rpc.Described(rpc.Func(greet),
			"Greets the user, whose name it asks the editor for (editor/userName).")),
	)
	if err != nil {
		return nil, err
	}
	if err := openrpc.Register(r, openrpc.Info{Title: "wordtool", Version: "1.0.0",
		Description: "Counts words; an example of a Parley service over stdio."}); err != nil {
		return nil, err
	}
	return r, nil
}

// serve serves the tool over rwc until the client closes it, logging to
// log.
func serve(rwc io.ReadWriteCloser, framing stream.Framing, log io.Writer) error {
	router, err := newRouter()
	if err != nil {
		return err
	}
	p, err := stream.NewPeer(rwc, &stream.Options{Framing: framing, Handler: router})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "wordtool: serving over stdio (%v framing)\n", framing)
	err = p.Wait()
	fmt.Fprintf(log, "wordtool: done: %v\n", err)
	if errors.Is(err, rpc.ErrConnectionLost) {
		return nil // the client closed our input: the normal end
	}
	return err
}
