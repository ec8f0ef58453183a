package main

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

//go:embed index.html
var page []byte

// Info is what a client tells the server about itself when asked.
type Info struct {
	Name  string `json:"name"`
	Time  string `json:"time"`
	Agent string `json:"agent"`
}

// Said is a chat line, sent to every member as a "said" notification.
type Said struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// CodeNameTaken answers a join with a name a member has already.
const CodeNameTaken rpc.Code = -32011

// CodeNotJoined answers a say from a client that has not joined.
const CodeNotJoined rpc.Code = -32010

// room is the chat server: the page at /, the RPC endpoint at /rpc.
type room struct {
	http.Handler
	ws      *websocket.Server
	members rpc.PeerSet // the clients that joined, by name; a client leaves it when it goes

	// mu serialises the history and the broadcasts, so that every member
	// sees the lines in the same order, and a joiner gets each line once:
	// in its history or as a notification.
	mu      sync.Mutex
	history []Said

	logMu sync.RWMutex // held to print; taken by Close so that nothing prints after it
	logf  func(string, ...any)
	quiet bool
}

func newRoom(logf func(string, ...any)) (*room, error) {
	r := &room{logf: logf}
	r.members.OnLeave = func(name string, _ *rpc.Peer, _ error) {
		r.log("%s left", name)
		// Not here: the hook may run inside members.Add, under mu.
		go r.broadcast(Said{From: "server", Text: name + " left"})
	}
	routes := rpc.NewRouter()
	if err := routes.Register("join", rpc.Func(r.join)); err != nil {
		return nil, err
	}
	if err := routes.Register("say", rpc.Func(r.say)); err != nil {
		return nil, err
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		return nil, err
	}
	r.ws = ws
	mux := http.NewServeMux()
	mux.Handle("/rpc", ws)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent) // none, and no 404 in the browser's console
	})
	r.Handler = mux
	return r, nil
}

// Close ends every client's connection. Nothing is printed after it
// returns, though handlers of the last clients may still be finishing.
func (r *room) Close() error {
	err := r.ws.Close()
	r.logMu.Lock()
	r.quiet = true
	r.logMu.Unlock()
	return err
}

func (r *room) log(format string, args ...any) {
	r.logMu.RLock()
	defer r.logMu.RUnlock()
	if !r.quiet {
		r.logf(format, args...)
	}
}

// join asks the caller about itself (a server-to-client call made while
// the client's own call is open), tells the members, makes the caller a
// member under its name, and returns the history, its own arrival last.
func (r *room) join(ctx context.Context, p struct{ Name string }) ([]Said, error) {
	if p.Name == "" || len(p.Name) > 40 {
		return nil, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "a name of 1 to 40 bytes, please"}
	}
	caller := rpc.PeerFromContext(ctx)
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rpc.Call[Info](ictx, caller, "clientInfo", nil)
	if err != nil {
		return nil, fmt.Errorf("asking the client about itself: %w", err)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if _, taken := r.members.Get(p.Name); taken {
		return nil, &rpc.Error{Code: CodeNameTaken, Message: "the name " + p.Name + " is taken"}
	}
	if _, member := r.members.ID(caller); member {
		return nil, &rpc.Error{Code: CodeNameTaken, Message: "joined already"}
	}
	r.log("%s joined (their clock says %s; %s)", p.Name, info.Time, info.Agent)
	r.sayLocked(Said{From: "server", Text: fmt.Sprintf("%s joined; their clock says %s", p.Name, info.Time)})
	history := append([]Said{}, r.history...) // not nil: [] on the wire, not null
	if _, err := r.members.Add(p.Name, caller); err != nil {
		return nil, err // the caller has gone meanwhile
	}
	return history, nil
}

// say broadcasts a line from a member.
func (r *room) say(ctx context.Context, p struct{ Text string }) (bool, error) {
	name, ok := r.members.ID(rpc.PeerFromContext(ctx))
	if !ok {
		return false, &rpc.Error{Code: CodeNotJoined, Message: "join first"}
	}
	r.broadcast(Said{From: name, Text: p.Text})
	return true, nil
}

func (r *room) broadcast(s Said) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sayLocked(s)
}

// sayLocked keeps s in the history and notifies every member, each send
// bounded so that a member that stopped reading holds up no one for long.
func (r *room) sayLocked(s Said) {
	r.history = append(r.history, s)
	if len(r.history) > 100 {
		r.history = r.history[1:]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r.members.NotifyAll(ctx, "said", s, time.Second)
}
