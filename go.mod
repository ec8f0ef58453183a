module github.com/parleyrpc/parley

go 1.26

require (
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/gofrs/uuid v4.0.0+incompatible // indirect
	github.com/gomodule/redigo v1.8.4 // indirect
	github.com/googollee/go-socket.io v1.7.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
	github.com/igm/sockjs-go/v3 v3.0.2 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)
