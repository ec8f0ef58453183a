package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/parleyrpc/parley/adapters/nats"
	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/internal/natsserver"
	"github.com/parleyrpc/parley/rpc"
)

// callTimeout bounds each call the nodes make to a client.
const callTimeout = 2 * time.Second

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// console prints lines until it is silenced: hooks may still be finishing
// when run returns, and must not print after that.
type console struct {
	mu  sync.Mutex
	out io.Writer
	off bool
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.off {
		fmt.Fprintf(c.out, format+"\n", args...)
	}
}

func (c *console) silence() {
	c.mu.Lock()
	c.off = true
	c.mu.Unlock()
}

// node is one server of the cluster: a WebSocket endpoint, its peers, and
// its link to the others.
type node struct {
	name  string
	peers rpc.PeerSet
	ws    *websocket.Server
	nats  *nats.Node
	hs    *http.Server
	url   string
	con   *console
}

// run starts the NATS server and three nodes (on ports base, base+1 and
// base+2, or free ones when base is 0), and the demo clients, until ctx
// ends.
func run(ctx context.Context, base int, demo bool, out io.Writer) error {
	con := &console{out: out}
	defer con.silence()
	ns, err := natsserver.Start()
	if err != nil {
		return err
	}
	defer ns.Stop()
	con.printf("embedded NATS on %s", ns.URL())

	var nodes []*node
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for i := range 3 {
		addr := "127.0.0.1:0"
		if base != 0 {
			addr = fmt.Sprintf("127.0.0.1:%d", base+i)
		}
		n, err := startNode(fmt.Sprint("node", i+1), addr, ns.URL(), con)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		con.printf("%s on %s (WebSocket %s/ws?name=NAME)", n.name, n.url, "ws"+n.url[len("http"):])
	}
	if !demo {
		<-ctx.Done()
		return nil
	}
	names := []string{"alice", "bob", "carol"}
	for i, name := range names {
		c, err := dialClient(ctx, nodes[i], name)
		if err != nil {
			return err
		}
		defer c.Close()
	}
	// Wait until every node sees every demo client.
	for _, n := range nodes {
		for len(n.nats.IDs()) < len(names) {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	con.printf("every node sees %v", nodes[0].nats.IDs())
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for round := 1; ; round++ {
		// Each node calls the client of the next node, then one node calls
		// them all.
		for i, n := range nodes {
			id := names[(i+1)%len(names)]
			answer, where, err := n.callOne(ctx, id)
			if err != nil {
				con.printf("round %d: %s → %s: %v", round, n.name, id, err)
				continue
			}
			con.printf("round %d: %s called %s (on %s): %q", round, n.name, id, where, answer)
		}
		all := nodes[round%3].callAll(ctx)
		con.printf("round %d: %s called every client: %s", round, nodes[round%3].name, all)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func startNode(name, addr, natsURL string, con *console) (*node, error) {
	n := &node{name: name, con: con}
	n.peers.OnJoin = func(id string, _ *rpc.Peer) { con.printf("%s: %s connected", name, id) }
	nn, err := nats.NewNode(&n.peers, &nats.Options{
		URL:    natsURL,
		Name:   name,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	n.nats = nn
	n.ws, err = websocket.NewServer(&websocket.ServerOptions{
		Handler: n.router(),
		Accept: func(r *http.Request) ([]rpc.Option, error) {
			if !validName.MatchString(r.URL.Query().Get("name")) {
				return nil, &websocket.HTTPError{Status: http.StatusBadRequest, Message: "name: 1 to 32 letters, digits, - or _"}
			}
			return nil, nil
		},
		OnConnect: func(p *rpc.Peer, r *http.Request) {
			if _, err := n.peers.Add(r.URL.Query().Get("name"), p); err != nil {
				con.printf("%s: refused %s: %v", name, r.URL.Query().Get("name"), err)
				p.Close()
			}
		},
	})
	if err != nil {
		nn.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", n.ws)
	mux.HandleFunc("GET /{$}", n.servePage)
	mux.HandleFunc("GET /who", n.serveWho)
	mux.HandleFunc("GET /call", n.serveCall)
	mux.HandleFunc("GET /all", n.serveAll)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		n.ws.Close()
		nn.Close()
		return nil, err
	}
	n.url = "http://" + ln.Addr().String()
	n.hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go n.hs.Serve(ln)
	return n, nil
}

func (n *node) stop() {
	n.hs.Close()
	n.ws.Close()
	n.nats.Close()
}

// callOne calls "whoami" on the client id, wherever it is connected.
func (n *node) callOne(ctx context.Context, id string) (answer, where string, err error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err = n.nats.Call(ctx, id, "whoami", nil, &answer)
	return answer, fmt.Sprint(n.nats.Where(id)), err
}

// callAll calls "whoami" on every client of every node and sums it up.
func (n *node) callAll(ctx context.Context) string {
	replies := nats.CallAll[string](ctx, n.nats, "whoami", nil, callTimeout)
	slices.SortFunc(replies, func(a, b nats.Reply[string]) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	s := ""
	for _, r := range replies {
		if r.Err != nil {
			s += fmt.Sprintf("[%s on %s: %v] ", r.ID, r.Node, r.Err)
		} else {
			s += fmt.Sprintf("[%s on %s: %q] ", r.ID, r.Node, r.Result)
		}
	}
	return s
}

// who is what /who and the page's "who" call answer: this node, the
// nodes in its view and where each client is.
type who struct {
	Node    string              `json:"node"`
	Nodes   []string            `json:"nodes"`
	Clients map[string][]string `json:"clients"`
}

func (n *node) who() who {
	where := map[string][]string{}
	for _, id := range n.nats.IDs() {
		where[id] = n.nats.Where(id)
	}
	return who{Node: n.name, Nodes: n.nats.Nodes(), Clients: where}
}

func (n *node) serveWho(w http.ResponseWriter, r *http.Request) { writeJSON(w, n.who()) }

// called is a node's call to one client, as the page's "call" answers it.
type called struct {
	Caller string   `json:"caller"` // the node that called
	ID     string   `json:"id"`
	On     []string `json:"on"` // the node holding the client
	Answer string   `json:"answer"`
}

// router serves the clients' calls to their node: "who", and "call",
// which makes the node call another client wherever it is connected (the
// page's buttons).
func (n *node) router() *rpc.Router {
	r := rpc.NewRouter()
	r.Register("who", rpc.Func(func(context.Context, any) (who, error) { return n.who(), nil }))
	r.Register("call", rpc.Func(func(ctx context.Context, p struct {
		ID string `json:"id"`
	}) (called, error) {
		from, _ := n.peers.ID(rpc.PeerFromContext(ctx))
		answer, where, err := n.callOne(ctx, p.ID)
		if err != nil {
			n.con.printf("%s: for %s, called %s: %v", n.name, from, p.ID, err)
			return called{}, &rpc.Error{Code: 1, Message: err.Error()}
		}
		n.con.printf("%s: for %s, called %s (on %s): %q", n.name, from, p.ID, where, answer)
		return called{Caller: n.name, ID: p.ID, On: n.nats.Where(p.ID), Answer: answer}, nil
	}))
	return r
}

func (n *node) serveCall(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	answer, where, err := n.callOne(r.Context(), id)
	res := map[string]any{"caller": n.name, "id": id, "on": where, "answer": answer}
	if err != nil {
		res["error"] = err.Error()
		if errors.Is(err, nats.ErrUnreachable) {
			w.WriteHeader(http.StatusNotFound)
		} else {
			w.WriteHeader(http.StatusBadGateway)
		}
	}
	writeJSON(w, res)
}

func (n *node) serveAll(w http.ResponseWriter, r *http.Request) {
	replies := nats.CallAll[string](r.Context(), n.nats, "whoami", nil, callTimeout)
	type one struct {
		ID, Node, Answer, Error string
	}
	var list []one
	for _, rep := range replies {
		o := one{ID: rep.ID, Node: rep.Node, Answer: rep.Result}
		if rep.Err != nil {
			o.Error = rep.Err.Error()
		}
		list = append(list, o)
	}
	slices.SortFunc(list, func(a, b one) int {
		if a.ID < b.ID {
			return -1
		}
		return 1
	})
	writeJSON(w, map[string]any{"caller": n.name, "replies": list})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// dialClient connects a demo client named name to node n: it answers
// "whoami" with its name and the node it is connected to.
func dialClient(ctx context.Context, n *node, name string) (*rpc.Peer, error) {
	r := rpc.NewRouter()
	r.Register("whoami", rpc.Func(func(context.Context, any) (string, error) {
		return fmt.Sprintf("I am %s, connected to %s", name, n.name), nil
	}))
	url := "ws" + n.url[len("http"):] + "/ws?name=" + name
	return websocket.Dial(ctx, url, &websocket.DialOptions{Handler: r})
}
