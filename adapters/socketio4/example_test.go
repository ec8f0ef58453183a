package socketio4_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/zishang520/socket.io/servers/socket/v3"

	"github.com/parleyrpc/parley/adapters/socketio4"
	"github.com/parleyrpc/parley/rpc"
)

// A router's method served as a socket.io event with an acknowledgement:
// what socket.emitWithAck("add", 1, 2) does, spelt out in the protocol's
// own packets over HTTP long-polling.
func ExampleAttach() {
	router := rpc.NewRouter()
	router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) {
		return p[0] + p[1], nil
	}))

	io := socket.NewServer(nil, nil)
	srv, err := socketio4.Attach(io, &socketio4.ServerOptions{Handler: router})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io.ServeHandler(nil))
	web := httptest.NewServer(mux)
	defer func() {
		_ = srv.Close()
		io.Close(nil)
		web.Close()
	}()

	poll := web.URL + "/socket.io/?EIO=4&transport=polling"
	open := fetch("GET", poll, "") // 0{"sid":"...",...}
	sid := strings.SplitN(strings.SplitN(open, `"sid":"`, 2)[1], `"`, 2)[0]
	poll += "&sid=" + sid
	fetch("POST", poll, "40") // connect to namespace "/"
	fetch("GET", poll, "")    // 40{"sid":"..."}: connected
	fetch("POST", poll, `420["add",1,2]`)
	fmt.Println(fetch("GET", poll, "")) // the acknowledgement of packet 0
	// Output: 430[3]
}

func fetch(method, url, body string) string {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
