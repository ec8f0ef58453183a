package sockjs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleyrpc/parley/adapters/sockjs"
	"github.com/parleyrpc/parley/rpc"
)

// A JSON-RPC server on a SockJS endpoint. The client here speaks the SockJS
// xhr-polling protocol by hand, to show what travels: a browser would use
// sockjs-client, and see only the JSON-RPC text in its message events.
func Example() {
	router := rpc.NewRouter()
	router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		return p[0] + p[1], nil
	}))
	srv, err := sockjs.NewServer(&sockjs.ServerOptions{Handler: router})
	if err != nil {
		log.Fatal(err)
	}
	opts := sockjs.DefaultOptions()
	opts.DisconnectDelay = time.Second // how long a silent polling session lives on

	mux := http.NewServeMux()
	mux.Handle("/rpc/", srv.Handler("/rpc", &opts))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Close() // runs first: ends the sessions

	// One session, "s1", polled over xhr.
	post := func(path, body string) string {
		resp, err := http.Post(hs.URL+"/rpc/000/s1"+path, "text/plain", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	fmt.Print(post("/xhr", ""))                                                                 // the open frame
	post("/xhr_send", `["{\"jsonrpc\":\"2.0\",\"method\":\"add\",\"params\":[2,3],\"id\":1}"]`) // one message
	fmt.Print(post("/xhr", ""))                                                                 // the answer
	// Output:
	// o
	// a["{\"jsonrpc\": \"2.0\", \"result\": 5, \"id\": 1}"]
}

// userKey is where Accept puts the user for the handlers.
type userKey struct{}

// Authentication at the start of each session: Accept reads the request
// that opened it (here a cookie), refuses a session without a user, and
// hands the user to the handlers with rpc.WithValue. OnConnect then greets
// each client, its Peer already serving.
func ExampleServerOptions_accept() {
	router := rpc.NewRouter()
	router.Register("whoami", rpc.Func(func(ctx context.Context, _ any) (string, error) {
		return ctx.Value(userKey{}).(string), nil
	}))
	greeted := make(chan string, 1)
	srv, err := sockjs.NewServer(&sockjs.ServerOptions{
		Handler: router,
		Accept: func(s sockjs.Session) ([]rpc.Option, error) {
			c, err := s.Request().Cookie("user")
			if err != nil {
				return nil, errors.New("not logged in")
			}
			return []rpc.Option{rpc.WithValue(userKey{}, c.Value)}, nil
		},
		OnConnect: func(p *rpc.Peer, s sockjs.Session) {
			greeted <- p.Value(userKey{}).(string)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	opts := sockjs.DefaultOptions()
	opts.DisconnectDelay = time.Second
	mux := http.NewServeMux()
	mux.Handle("/rpc/", srv.Handler("/rpc", &opts))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Close()

	post := func(session, user, path, body string) string {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/rpc/000/"+session+path, strings.NewReader(body))
		if user != "" {
			req.AddCookie(&http.Cookie{Name: "user", Value: user})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	fmt.Print(post("anon", "", "/xhr", "")) // SockJS opens every session...
	fmt.Print(post("anon", "", "/xhr", "")) // ...and then closes it: refused
	fmt.Print(post("s2", "alice", "/xhr", ""))
	fmt.Println("greeted", <-greeted)
	post("s2", "alice", "/xhr_send", `["{\"jsonrpc\":\"2.0\",\"method\":\"whoami\",\"id\":1}"]`)
	fmt.Print(post("s2", "alice", "/xhr", ""))
	// Output:
	// o
	// c[4001,"not logged in"]
	// o
	// greeted alice
	// a["{\"jsonrpc\": \"2.0\", \"result\": \"alice\", \"id\": 1}"]
}

// The raw websocket endpoint (prefix/websocket) besides SockJS's own, for
// plain WebSocket JSON-RPC clients, with origins allowed by pattern.
func ExampleServer_Handler() {
	peers := new(rpc.PeerSet)
	srv, err := sockjs.NewServer(&sockjs.ServerOptions{
		Handler:        rpc.NewRouter(),
		Peers:          peers,
		AllowedOrigins: []string{"https://app.example.com", "*.example.org"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	opts := sockjs.DefaultOptions()
	opts.RawWebsocket = true
	mux := http.NewServeMux()
	mux.Handle("/rpc/", srv.Handler("/rpc", &opts)) // ws://127.0.0.1:8080/rpc/websocket too
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
