package bench

import (
	"fmt"
	"net/http"

	gorilla "github.com/gorilla/websocket"
)

// The raw echo is the physical limit: gorilla/websocket moving the exact
// bytes of Parley's JSON call and answer, with no RPC layer. Sequential
// calls go over a connection whose server reads then writes on one
// goroutine; concurrent ones over a connection whose each side has one
// reader and one writer goroutine, as a pipelining gorilla program would.

// rawPipeQuery asks the raw server for the reader-plus-writer mode.
const rawPipeQuery = "?mode=pipe"

// rawHandler serves the raw echo: every message read is answered with
// Answer().
func rawHandler(w http.ResponseWriter, r *http.Request) {
	ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	if r.URL.RawQuery != "mode=pipe" {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			if err := ws.WriteMessage(gorilla.TextMessage, answer); err != nil {
				return
			}
		}
	}
	// One token per request read and not yet answered; the client keeps
	// at most 64 outstanding, so the reader never waits here.
	toAnswer := make(chan struct{}, 1024)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for range toAnswer {
			if err := ws.WriteMessage(gorilla.TextMessage, answer); err != nil {
				_ = ws.Close() // ends the reader too
				for range toAnswer {
				}
				return
			}
		}
	}()
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
		toAnswer <- struct{}{}
	}
	close(toAnswer)
	<-writerDone
}

// rawRunner is a client of the raw echo with one connection per mode.
type rawRunner struct {
	srv       *httpServer
	seq, pipe *gorilla.Conn
	close     func() error // anything else to close, or nil
}

func startRaw() (Runner, error) {
	srv, err := serveHTTP(http.HandlerFunc(rawHandler))
	if err != nil {
		return nil, err
	}
	d := gorilla.Dialer{HandshakeTimeout: setupTimeout}
	seq, _, err := d.Dial(srv.URL, nil)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	pipe, _, err := d.Dial(srv.URL+rawPipeQuery, nil)
	if err != nil {
		_ = seq.Close()
		_ = srv.Close()
		return nil, err
	}
	return &rawRunner{srv: srv, seq: seq, pipe: pipe}, nil
}

func (r *rawRunner) Run(n, inflight int) error {
	if inflight <= 1 {
		for range n {
			if err := r.seq.WriteMessage(gorilla.TextMessage, request); err != nil {
				return err
			}
			if err := readAnswer(r.seq); err != nil {
				return err
			}
		}
		return nil
	}
	return pipelined(n, inflight,
		func() error { return r.pipe.WriteMessage(gorilla.TextMessage, request) },
		func() error { return readAnswer(r.pipe) })
}

// pipelined runs n round trips with up to inflight outstanding: a writer
// goroutine sends as long as fewer than inflight requests are waiting;
// the calling goroutine reads, freeing a slot per answer.
func pipelined(n, inflight int, write, read func() error) error {
	slots := make(chan struct{}, inflight)
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		for range n {
			select {
			case slots <- struct{}{}:
			case <-stop:
				werr <- nil
				return
			}
			if err := write(); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	var rerr error
	for range n {
		if rerr = read(); rerr != nil {
			break
		}
		<-slots
	}
	close(stop)
	if err := <-werr; err != nil {
		return err
	}
	return rerr
}

func readAnswer(ws *gorilla.Conn) error {
	_, msg, err := ws.ReadMessage()
	if err != nil {
		return err
	}
	if len(msg) != len(answer) {
		return fmt.Errorf("bench: raw answer of %d bytes, want %d", len(msg), len(answer))
	}
	return nil
}

func (r *rawRunner) Close() error {
	return closeAll(r.seq.Close, r.pipe.Close, r.close, r.srv.Close) // closing one twice is net.ErrClosed, ignored
}
