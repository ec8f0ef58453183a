package sockjs_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	sockjsgo "github.com/igm/sockjs-go/v3/sockjs"

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
	srv, err := sockjs.NewServer(&sockjs.Config{
		PeerOptions: []rpc.Option{rpc.WithHandler(router)},
	})
	if err != nil {
		log.Fatal(err)
	}
	opts := sockjsgo.DefaultOptions
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

// Mounting Server.HandleSession with sockjs-go yourself, here with the
// raw websocket endpoint enabled and the server's origin check on both
// the XHR transports and the websocket upgrade.
func ExampleServer_HandleSession() {
	peers := new(rpc.PeerSet)
	srv, err := sockjs.NewServer(&sockjs.Config{
		Peers:          peers,
		AllowedOrigins: []string{"https://app.example.com"},
		OnConnect: func(p *rpc.Peer, s sockjsgo.Session) error {
			if s.Request().Header.Get("Authorization") == "" {
				return fmt.Errorf("not logged in")
			}
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	opts := sockjsgo.DefaultOptions
	opts.RawWebsocket = true
	opts.CheckOrigin = srv.CheckOrigin
	up := *opts.WebsocketUpgrader // a copy: DefaultOptions' upgrader is shared
	up.CheckOrigin = srv.CheckOrigin
	opts.WebsocketUpgrader = &up
	opts.WebsocketWriteTimeout = sockjs.DefaultWriteTimeout

	mux := http.NewServeMux()
	mux.Handle("/rpc/", srv.Guard(sockjsgo.NewHandler("/rpc", opts, srv.HandleSession)))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
