package openrpc_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyrpc/parley/rpc"
	"github.com/parleyrpc/parley/rpc/openrpc"
)

type addParams struct {
	A int `json:"a"`
	B int `json:"b,omitempty"`
}

// A router describes its typed methods through rpc.discover.
func Example() {
	router := rpc.NewRouter()
	add := func(_ context.Context, p addParams) (int, error) { return p.A + p.B, nil }
	router.Register("add", rpc.Described(rpc.Func(add), "Adds b to a."))
	openrpc.Register(router, openrpc.Info{Title: "calculator", Version: "1.0.0"})

	a, b := rpc.Pipe()
	server, _ := rpc.NewPeer(a, rpc.WithHandler(router))
	defer server.Close()
	client, _ := rpc.NewPeer(b)
	defer client.Close()

	var doc openrpc.Document
	if err := client.Call(context.Background(), "rpc.discover", nil, &doc); err != nil {
		fmt.Println(err)
		return
	}
	m := doc.Methods[0]
	fmt.Println(doc.OpenRPC, doc.Info.Title, m.Name, m.Description, m.ParamStructure)
	for _, p := range m.Params {
		s, _ := json.Marshal(p.Schema)
		fmt.Println(p.Name, p.Required, string(s))
	}
	s, _ := json.Marshal(m.Result.Schema)
	fmt.Println("result", string(s))
	// Output:
	// 1.3.2 calculator add Adds b to a. by-name
	// a true {"type":"integer"}
	// b false {"type":"integer"}
	// result {"type":"integer"}
}
