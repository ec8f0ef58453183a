package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/creachadair/jrpc2"
	"github.com/creachadair/jrpc2/channel"
	"github.com/creachadair/jrpc2/handler"
	"github.com/sourcegraph/jsonrpc2"

	"github.com/parleyrpc/parley/adapters/stream"
	"github.com/parleyrpc/parley/codec"
)

// Byte streams: the same call, add([1,2]) answered 3, client to server,
// over a Unix socket, framed as the Language Server Protocol frames
// messages (Content-Length headers) by each library's own framer:
//
//   - stream-raw: the limit, the exact bytes of Parley's JSON call and
//     answer in LSP frames, read with a bufio.Reader and written with one
//     write each, no RPC layer (64 in flight: a reader and a writer
//     goroutine per side);
//   - stream-parley-json, stream-parley-cbor: adapters/stream, header
//     framing; stream-parley-lines: newline-delimited JSON;
//   - stream-sourcegraph: sourcegraph/jsonrpc2 with its VSCodeObjectCodec
//     on a BufferedStream, handler wrapped in AsyncHandler;
//   - stream-jrpc2: creachadair/jrpc2 over channel.LSP.

// StreamScenarios returns the byte-stream scenarios, the raw echo first.
func StreamScenarios() []Scenario {
	return []Scenario{
		{"stream-raw", ClientToServer, startStreamRaw},
		{"stream-parley-json", ClientToServer, func() (Runner, error) { return startStreamParley(stream.Header, jsonCodec) }},
		{"stream-parley-cbor", ClientToServer, func() (Runner, error) { return startStreamParley(stream.Header, cborCodec) }},
		{"stream-parley-lines", ClientToServer, func() (Runner, error) { return startStreamParley(stream.Lines, jsonCodec) }},
		{"stream-sourcegraph", ClientToServer, startStreamSourcegraph},
		{"stream-jrpc2", ClientToServer, startStreamJrpc2},
	}
}

// unixListener listens on a Unix socket in a new temporary directory;
// cleanup removes the directory.
func unixListener() (net.Listener, func() error, error) {
	dir, err := os.MkdirTemp("", "parley-bench-")
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return ln, func() error { return os.RemoveAll(dir) }, nil
}

// dialUnix connects to ln and returns both ends.
func dialUnix(ln net.Listener) (client, server net.Conn, err error) {
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	client, err = net.Dial("unix", ln.Addr().String())
	server = <-accepted
	if err == nil && server == nil {
		err = errors.New("bench: accept failed")
	}
	if err != nil {
		if client != nil {
			client.Close()
		}
		if server != nil {
			server.Close()
		}
		return nil, nil, err
	}
	return client, server, nil
}

// lspFrame is msg in an LSP frame.
func lspFrame(msg []byte) []byte {
	return append([]byte("Content-Length: "+strconv.Itoa(len(msg))+"\r\n\r\n"), msg...)
}

// readLSP reads one LSP frame's body into buf.
func readLSP(br *bufio.Reader, buf []byte) ([]byte, error) {
	n := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := cutPrefix(line, "Content-Length: "); ok {
			if n, err = strconv.Atoi(string(v[:len(v)-2])); err != nil {
				return nil, err
			}
		}
	}
	if n < 0 {
		return nil, errors.New("bench: frame without Content-Length")
	}
	buf = append(buf[:0], make([]byte, n)...)
	_, err := io.ReadFull(br, buf)
	return buf, err
}

func cutPrefix(b []byte, p string) ([]byte, bool) {
	if len(b) >= len(p) && string(b[:len(p)]) == p {
		return b[len(p):], true
	}
	return nil, false
}

// streamRaw is the raw echo over one connection per mode.
type streamRaw struct {
	seq, pipe net.Conn
	seqBR     *bufio.Reader
	pipeBR    *bufio.Reader
	buf       []byte
	ln        net.Listener
	cleanup   func() error
	servers   []net.Conn
	done      chan struct{}
}

var rawReq, rawAns = lspFrame(request), lspFrame(answer)

func startStreamRaw() (Runner, error) {
	ln, cleanup, err := unixListener()
	if err != nil {
		return nil, err
	}
	r := &streamRaw{ln: ln, cleanup: cleanup, done: make(chan struct{}, 2)}
	for i, pipelined := range []bool{false, true} {
		c, s, err := dialUnix(ln)
		if err != nil {
			_ = r.Close()
			return nil, err
		}
		r.servers = append(r.servers, s)
		go serveRawStream(s, pipelined, r.done)
		if i == 0 {
			r.seq, r.seqBR = c, bufio.NewReader(c)
		} else {
			r.pipe, r.pipeBR = c, bufio.NewReader(c)
		}
	}
	return r, nil
}

// serveRawStream answers every frame read with rawAns.
func serveRawStream(c net.Conn, pipelined bool, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	br := bufio.NewReader(c)
	var buf []byte
	if !pipelined {
		for {
			var err error
			if buf, err = readLSP(br, buf); err != nil {
				return
			}
			if _, err := c.Write(rawAns); err != nil {
				return
			}
		}
	}
	toAnswer := make(chan struct{}, 1024)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range toAnswer {
			if _, err := c.Write(rawAns); err != nil {
				_ = c.Close()
				for range toAnswer {
				}
				return
			}
		}
	}()
	for {
		var err error
		if buf, err = readLSP(br, buf); err != nil {
			break
		}
		toAnswer <- struct{}{}
	}
	close(toAnswer)
	<-writerDone
}

func (r *streamRaw) Run(n, inflight int) error {
	check := func(b []byte) error {
		if len(b) != len(answer) {
			return fmt.Errorf("bench: raw answer of %d bytes, want %d", len(b), len(answer))
		}
		return nil
	}
	if inflight <= 1 {
		for range n {
			if _, err := r.seq.Write(rawReq); err != nil {
				return err
			}
			var err error
			if r.buf, err = readLSP(r.seqBR, r.buf); err != nil {
				return err
			}
			if err := check(r.buf); err != nil {
				return err
			}
		}
		return nil
	}
	return pipelined(n, inflight,
		func() error { _, err := r.pipe.Write(rawReq); return err },
		func() error {
			var err error
			if r.buf, err = readLSP(r.pipeBR, r.buf); err != nil {
				return err
			}
			return check(r.buf)
		})
}

func (r *streamRaw) Close() error {
	var closers []func() error
	for _, c := range []net.Conn{r.seq, r.pipe} {
		if c != nil {
			closers = append(closers, c.Close)
		}
	}
	err := closeAll(closers...)
	for range r.servers {
		<-r.done
	}
	for _, s := range r.servers {
		_ = s.Close()
	}
	return errors.Join(err, closeAll(r.ln.Close, r.cleanup))
}

// startStreamParley connects a Parley client to a Parley stream.Server.
func startStreamParley(f stream.Framing, c codec.Codec) (Runner, error) {
	srv, err := stream.NewServer(&stream.ServerOptions{Framing: f, Codec: c, Handler: addRouter(false)})
	if err != nil {
		return nil, err
	}
	ln, cleanup, err := unixListener()
	if err != nil {
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	conn, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		return nil, errors.Join(err, srv.Close(), <-served, cleanup())
	}
	client, err := stream.NewPeer(conn, &stream.Options{Framing: f, Codec: c})
	if err != nil {
		return nil, errors.Join(err, conn.Close(), srv.Close(), cleanup())
	}
	var params any = [2]int{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := client.Call(ctx, "add", params, &got)
			return check(got, err)
		},
		close: func() error {
			err := closeAll(client.Close, srv.Close)
			if serr := <-served; !errors.Is(serr, stream.ErrServerClosed) {
				err = errors.Join(err, serr)
			}
			return errors.Join(err, cleanup())
		},
	}, nil
}

// startStreamSourcegraph connects sourcegraph/jsonrpc2 ends with its
// VSCodeObjectCodec.
func startStreamSourcegraph() (Runner, error) {
	ln, cleanup, err := unixListener()
	if err != nil {
		return nil, err
	}
	c, s, err := dialUnix(ln)
	if err != nil {
		return nil, errors.Join(err, ln.Close(), cleanup())
	}
	server := jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(s, jsonrpc2.VSCodeObjectCodec{}), sourcegraphAdd, jsonrpc2.SetLogger(quiet{}))
	client := jsonrpc2.NewConn(context.Background(), jsonrpc2.NewBufferedStream(c, jsonrpc2.VSCodeObjectCodec{}), noCalls, jsonrpc2.SetLogger(quiet{}))
	var params any = [2]int{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := client.Call(ctx, "add", params, &got)
			return check(got, err)
		},
		close: func() error {
			err := closeAll(sgClose(client), sgClose(server), ln.Close, cleanup)
			<-client.DisconnectNotify()
			<-server.DisconnectNotify()
			return err
		},
	}, nil
}

// startStreamJrpc2 connects a jrpc2 client and server over channel.LSP.
func startStreamJrpc2() (Runner, error) {
	ln, cleanup, err := unixListener()
	if err != nil {
		return nil, err
	}
	c, s, err := dialUnix(ln)
	if err != nil {
		return nil, errors.Join(err, ln.Close(), cleanup())
	}
	server := jrpc2.NewServer(handler.Map{"add": jrpc2Add}, nil).Start(channel.LSP(s, s))
	client := jrpc2.NewClient(channel.LSP(c, c), nil)
	var params any = [2]int{1, 2}
	return &callRunner{
		call: func(ctx context.Context) error {
			var got int
			err := client.CallResult(ctx, "add", params, &got)
			return check(got, err)
		},
		close: func() error {
			err := client.Close()
			server.Stop()
			_ = server.Wait()
			return errors.Join(err, closeAll(ln.Close, cleanup))
		},
	}, nil
}
