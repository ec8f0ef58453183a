package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
)

// IdleResult is what an idle connection costs on each side: Go heap and
// stacks in use (HeapInuse+StackInuse after two collections) and
// goroutines, per connection, measured as the change from before the
// connections were opened to after each had made one call.
type IdleResult struct {
	Lib                     string  `json:"lib"`
	Conns                   int     `json:"conns"`
	ServerBytesPerConn      float64 `json:"server_bytes_per_conn"`
	ServerGoroutinesPerConn float64 `json:"server_goroutines_per_conn"`
	ClientBytesPerConn      float64 `json:"client_bytes_per_conn"`
	ClientGoroutinesPerConn float64 `json:"client_goroutines_per_conn"`
}

// IdleLibs are the libraries [MeasureIdle] knows: "parley" (the websocket
// adapter's server and Dial, default options, JSON) and "raw" (gorilla
// with its default Upgrader and Dialer, one reader goroutine per
// connection on each side, as a plain gorilla program has).
var IdleLibs = []string{"raw", "parley"}

// MeasureIdle opens n connections of lib to a server in this process from
// clients in a child process started with spawn, makes one call on each,
// and measures both sides while they sit idle.
func MeasureIdle(lib string, n int, spawn Spawner) (IdleResult, error) {
	res := IdleResult{Lib: lib, Conns: n}
	var (
		handler http.Handler
		open    func() int
		closeWS func() error
	)
	switch lib {
	case "parley":
		ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: addRouter(false)})
		if err != nil {
			return res, err
		}
		handler, open, closeWS = ws, ws.Len, ws.Close
	case "raw":
		var live atomic.Int64
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ws, err := (&gorilla.Upgrader{}).Upgrade(w, r, nil)
			if err != nil {
				return
			}
			live.Add(1)
			defer live.Add(-1)
			defer ws.Close()
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				if err := ws.WriteMessage(gorilla.TextMessage, answer); err != nil {
					return
				}
			}
		})
		open = func() int { return int(live.Load()) }
	default:
		return res, fmt.Errorf("bench: MeasureIdle: no library %q", lib)
	}
	srv, err := serveHTTP(handler)
	if err != nil {
		return res, err
	}
	defer func() { _ = closeAll(closeWS, srv.Close) }()

	before := snapshot()
	c, err := startChild(spawn, childSpec{Role: "idle-clients", Lib: lib, URL: srv.URL, N: n})
	if err != nil {
		return res, err
	}
	var client IdleResult
	if err := c.next(&client, time.Duration(n)*20*time.Millisecond+time.Minute); err != nil {
		_, _ = c.stop(10 * time.Second)
		return res, err
	}
	if got := open(); got != n {
		_, _ = c.stop(10 * time.Second)
		return res, fmt.Errorf("bench: %d connections open on the server, want %d", got, n)
	}
	after := snapshot()
	if _, err := c.stop(time.Minute); err != nil {
		return res, err
	}
	res.ServerBytesPerConn = (float64(after.Bytes) - float64(before.Bytes)) / float64(n)
	res.ServerGoroutinesPerConn = float64(after.Goroutines-before.Goroutines) / float64(n)
	res.ClientBytesPerConn = client.ClientBytesPerConn
	res.ClientGoroutinesPerConn = client.ClientGoroutinesPerConn
	return res, nil
}

// idleClients is the child role of MeasureIdle: it opens the connections,
// reports its own figures, and closes them when told to.
func idleClients(spec childSpec, stdin io.Reader, say func(any) error) error {
	set, err := newClientSet(spec.Lib, spec.N)
	if err != nil {
		return err
	}
	before := snapshot()
	err = dialMany(spec.N, spec.Dialers, func(ctx context.Context, i int) error { return set.dial(ctx, spec.URL, i) })
	if err == nil {
		after := snapshot()
		err = say(IdleResult{
			Lib:                     spec.Lib,
			Conns:                   spec.N,
			ClientBytesPerConn:      (float64(after.Bytes) - float64(before.Bytes)) / float64(spec.N),
			ClientGoroutinesPerConn: float64(after.Goroutines-before.Goroutines) / float64(spec.N),
		})
		waitEOF(stdin)
	}
	if cerr := set.close(); err == nil {
		err = cerr
	}
	return err
}

// idleServer runs MeasureIdle in a child of its own, so that the server
// side starts from a fresh process, and reports the result.
func idleServer(spec childSpec, _ io.Reader, say func(any) error) error {
	res, err := MeasureIdle(spec.Lib, spec.N, SelfSpawner())
	if err != nil {
		return err
	}
	return say(res)
}

// MeasureIdleFresh runs [MeasureIdle] for lib in a new process started
// with spawn (whose clients go in a process of their own), so that
// nothing the caller holds shows in the figures.
func MeasureIdleFresh(lib string, n int, spawn Spawner) (IdleResult, error) {
	return measureFresh[IdleResult](spawn, childSpec{Role: "idle-server", Lib: lib, N: n}, time.Duration(n)*40*time.Millisecond+2*time.Minute)
}
