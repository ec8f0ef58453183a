package bench

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/hub"
)

// TestFloorEventIsTheHubs: the publish floor writes the very bytes a
// subscriber of the hub receives for the same publish, so that the two
// measurements move the same frames.
func TestFloorEventIsTheHubs(t *testing.T) {
	h, err := hub.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	routes := rpc.NewRouter()
	if err := h.Mount(routes); err != nil {
		t.Fatal(err)
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{Handler: routes})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serveHTTP(ws)
	if err != nil {
		t.Fatal(errors.Join(err, ws.Close()))
	}
	defer closeAll(ws.Close, srv.Close, h.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := (&gorilla.Dialer{}).DialContext(ctx, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	sub := `{"jsonrpc":"2.0","method":"hub.subscribe","params":{"topic":"` + publishTopic + `"},"id":1}`
	if err := c.WriteMessage(gorilla.TextMessage, []byte(sub)); err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Result bool `json:"result"`
	}
	if err := c.ReadJSON(&answer); err != nil || !answer.Result {
		t.Fatalf("subscribe: %+v, %v", answer, err)
	}
	if _, err := h.Publish(publishTopic, [2]int{3, 10_000}); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if want := floorEvent(3, 10_000); !bytes.Equal(got, want) {
		t.Fatalf("the hub's event:\n%s\nthe floor's:\n%s", got, want)
	}
}
