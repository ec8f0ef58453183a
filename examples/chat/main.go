// Command chat is Parley's demo: a chat room whose web page calls the
// server ("join", "say") and answers the server's calls ("clientInfo": the
// browser's local time and user agent), over one WebSocket.
//
//	go run ./examples/chat
//
// then open http://127.0.0.1:8080 in two browser tabs.
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	room, err := newRoom(log.Printf)
	if err != nil {
		log.Fatal(err)
	}
	defer room.Close()
	fmt.Printf("Parley chat demo on http://%s (Ctrl-C to stop)\n", *addr)
	log.Fatal(http.ListenAndServe(*addr, room))
}

// Info is what a client tells the server about itself when asked.
type Info struct {
	Name  string `json:"name"`
	Time  string `json:"time"`
	Agent string `json:"agent"`
}

// Said is a chat line, sent to every client as a "said" notification.
type Said struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// room is the chat server: the page at /, the RPC endpoint at /rpc.
type room struct {
	http.Handler
	ws    *websocket.Server
	peers rpc.PeerSet
	logf  func(string, ...any)

	mu      sync.Mutex
	names   map[*rpc.Peer]string
	history []Said
}

func newRoom(logf func(string, ...any)) (*room, error) {
	r := &room{logf: logf, names: map[*rpc.Peer]string{}}
	routes := rpc.NewRouter()
	if err := routes.Register("join", rpc.Func(r.join)); err != nil {
		return nil, err
	}
	if err := routes.Register("say", rpc.Func(r.say)); err != nil {
		return nil, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes, Peers: &r.peers})
	if err != nil {
		return nil, err
	}
	r.ws = ws
	mux := http.NewServeMux()
	mux.Handle("/rpc", ws)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	r.Handler = mux
	return r, nil
}

func (r *room) Close() error { return r.ws.Close() }

// join records the caller's name, asks the caller about itself (a
// server-to-client call made while the client's own call is open), and
// returns the history.
func (r *room) join(ctx context.Context, p struct{ Name string }) ([]Said, error) {
	caller := rpc.PeerFromContext(ctx)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rpc.Call[Info](ictx, caller, "clientInfo", nil)
	if err != nil {
		return nil, fmt.Errorf("asking the client about itself: %w", err)
	}
	r.logf("%s joined (their clock says %s; %s)", p.Name, info.Time, info.Agent)
	r.mu.Lock()
	r.names[caller] = p.Name
	history := append([]Said(nil), r.history...)
	r.mu.Unlock()
	r.broadcast(Said{From: "server", Text: fmt.Sprintf("%s joined; their clock says %s", p.Name, info.Time)})
	return history, nil
}

// say broadcasts a line to everyone.
func (r *room) say(ctx context.Context, p struct{ Text string }) (bool, error) {
	r.mu.Lock()
	name, ok := r.names[rpc.PeerFromContext(ctx)]
	r.mu.Unlock()
	if !ok {
		return false, &rpc.Error{Code: -32010, Message: "join first"}
	}
	r.broadcast(Said{From: name, Text: p.Text})
	return true, nil
}

func (r *room) broadcast(s Said) {
	r.mu.Lock()
	r.history = append(r.history, s)
	if len(r.history) > 100 {
		r.history = r.history[1:]
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.peers.NotifyAll(ctx, "said", s, time.Second)
}
