package faulttransport_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyrpc/parley/internal/faulttransport"
	"github.com/parleyrpc/parley/rpc"
)

// A link that drops at the client's second message: the first call
// succeeds, the second ends with a connection-lost error whose cause is
// the injected drop.
func ExampleNew() {
	a, b := rpc.Pipe()
	faulty, err := faulttransport.New(a, faulttransport.Plan{Faults: []faulttransport.Fault{
		{Kind: faulttransport.Drop, Dir: faulttransport.Outbound, At: 2},
	}})
	if err != nil {
		panic(err)
	}
	router := rpc.NewRouter()
	_ = router.Register("add", rpc.Func(func(_ context.Context, p []int) (int, error) { return p[0] + p[1], nil }))
	server, _ := rpc.NewPeer(b, rpc.WithHandler(router))
	client, _ := rpc.NewPeer(faulty)
	defer server.Close()
	defer client.Close()

	ctx := context.Background()
	sum, err := rpc.Call[int](ctx, client, "add", []int{1, 2})
	fmt.Println(sum, err)
	_, err = rpc.Call[int](ctx, client, "add", []int{3, 4})
	fmt.Println(errors.Is(err, rpc.ErrConnectionLost), errors.Is(err, faulttransport.ErrDropped))
	st := faulty.Stats()
	fmt.Printf("sent %d, passed %d, faults %d: %v\n", st.Out.Messages, st.Out.Passed, len(st.Injected), st.Injected[0].Fault)
	// Output:
	// 3 <nil>
	// true true
	// sent 2, passed 1, faults 1: drop outbound #2
}
