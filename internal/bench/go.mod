module github.com/parleyrpc/parley/internal/bench

go 1.26.0

require (
	github.com/creachadair/jrpc2 v1.3.6
	github.com/gorilla/websocket v1.5.3
	github.com/parleyrpc/parley v0.0.0
	github.com/sourcegraph/jsonrpc2 v0.2.3
	golang.org/x/image v0.47.0
)

require (
	github.com/creachadair/mds v0.31.0 // indirect
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sync v0.24.0 // indirect
)

replace github.com/parleyrpc/parley => ../..
