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
	"github.com/parleyrpc/parley/rpc/hub"
)

//go:embed index.html
var page []byte

// Info is what a client tells the server about itself when asked.
type Info struct {
	Name  string `json:"name"`
	Time  string `json:"time"`
	Agent string `json:"agent"`
}

// Said is a chat line, published to its room's topic: every member of the
// room receives it as a hub.event notification, {"topic": "chat.<room>",
// "data": Said}.
type Said struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// CodeNameTaken answers a join with a name a member has already.
const CodeNameTaken rpc.Code = -32011

// CodeNotJoined answers a say from a client that has not joined.
const CodeNotJoined rpc.Code = -32010

// room is the chat server: the page at /, the RPC endpoint at /rpc. Each
// chat room is a hub topic, "chat.<room>"; joining subscribes the caller
// to its room's topic, and saying publishes there.
type room struct {
	http.Handler
	ws      *websocket.Server
	hub     *hub.Hub
	members rpc.PeerSet // the clients that joined, by name; a client leaves it when it goes

	// mu serialises the histories and the broadcasts, so that every member
	// sees the lines in the same order, and a joiner gets each line once:
	// in its history or as an event.
	mu      sync.Mutex
	history map[string][]Said // by room
	roomOf  map[string]string // member name -> room

	logMu sync.RWMutex // held to print; taken by Close so that nothing prints after it
	logf  func(string, ...any)
	quiet bool
}

func newRoom(logf func(string, ...any)) (*room, error) {
	h, err := hub.New(nil)
	if err != nil {
		return nil, err
	}
	r := &room{logf: logf, hub: h, history: map[string][]Said{}, roomOf: map[string]string{}}
	r.members.OnLeave = func(name string, _ *rpc.Peer, _ error) {
		r.log("%s left", name)
		// Not here: the hook may run inside members.Add, under mu.
		go func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			room := r.roomOf[name]
			delete(r.roomOf, name)
			r.sayLocked(room, Said{From: "server", Text: name + " left"})
		}()
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
	r.hub.Close()
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
// the client's own call is open), tells the room's members, makes the
// caller a member under its name, subscribed to its room's topic, and
// returns the room's history, its own arrival last. The room is "lobby"
// unless the params name another.
func (r *room) join(ctx context.Context, p struct{ Name, Room string }) ([]Said, error) {
	if p.Name == "" || len(p.Name) > 40 {
		return nil, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "a name of 1 to 40 bytes, please"}
	}
	if p.Room == "" {
		p.Room = "lobby"
	}
	if !validRoom(p.Room) {
		return nil, &rpc.Error{Code: rpc.CodeInvalidParams, Message: "a room name of 1 to 40 letters, digits, - or _, please"}
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
	r.log("%s joined %s (their clock says %s; %s)", p.Name, p.Room, info.Time, info.Agent)
	r.sayLocked(p.Room, Said{From: "server", Text: fmt.Sprintf("%s joined; their clock says %s", p.Name, info.Time)})
	history := append([]Said{}, r.history[p.Room]...) // not nil: [] on the wire, not null
	if err := r.hub.Subscribe(caller, topic(p.Room)); err != nil {
		return nil, err // the caller has gone meanwhile
	}
	if _, err := r.members.Add(p.Name, caller); err != nil {
		return nil, err
	}
	r.roomOf[p.Name] = p.Room
	return history, nil
}

// topic is the hub topic of a room.
func topic(room string) string { return "chat." + room }

func validRoom(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// say publishes a line from a member to its room.
func (r *room) say(ctx context.Context, p struct{ Text string }) (bool, error) {
	name, ok := r.members.ID(rpc.PeerFromContext(ctx))
	if !ok {
		return false, &rpc.Error{Code: CodeNotJoined, Message: "join first"}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sayLocked(r.roomOf[name], Said{From: name, Text: p.Text})
	return true, nil
}

// sayLocked keeps s in the room's history and publishes it to the room's
// topic. Publishing never waits for a member: the hub queues each event
// for each subscriber, and a member that stopped reading is dropped by
// the WebSocket adapter's write timeout.
func (r *room) sayLocked(room string, s Said) {
	h := append(r.history[room], s)
	if len(h) > 100 {
		h = h[1:]
	}
	r.history[room] = h
	if _, err := r.hub.Publish(topic(room), s); err != nil {
		r.log("publishing to %s: %v", room, err)
	}
}
