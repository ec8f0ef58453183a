package main

import (
	"fmt"
	"io"
	"sync"

	sio "github.com/googollee/go-socket.io"
)

// app is the socket.io application that was there before Parley: a chat
// room on the event "chat" and an "echo" answered by acknowledgement. Nothing
// here knows about Parley.
type app struct {
	io *sio.Server

	mu  sync.Mutex
	out io.Writer // nil once the program has stopped
}

func (a *app) printf(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.out != nil {
		fmt.Fprintf(a.out, format+"\n", args...)
	}
}

// silence stops all printing: hooks may still run after the program ends.
func (a *app) silence() {
	a.mu.Lock()
	a.out = nil
	a.mu.Unlock()
}

// registerEvents registers the application's own events. Arguments are
// taken as strings: go-socket.io drops a client whose argument does not
// decode into the declared type.
func (a *app) registerEvents() {
	a.io.OnEvent("/", "chat", func(conn sio.Conn, text string) string {
		line := nameOf(conn) + ": " + text
		a.printf("chat %s", line)
		a.io.BroadcastToRoom("/", "lobby", "chat", line)
		return "sent"
	})
	// ("ping" would not do: socket.io-client 2 keeps that name for itself.)
	a.io.OnEvent("/", "echo", func(conn sio.Conn, text string) string { return "echo: " + text })
}

// onConnect and onDisconnect are the application's own connect hooks.
// go-socket.io keeps one of each per namespace, so with Parley attached
// they are given to Attach, which calls them.
func (a *app) onConnect(conn sio.Conn) error {
	conn.Join("lobby")
	a.printf("socket.io: %s connected (connection %s)", nameOf(conn), conn.ID())
	return nil
}

func (a *app) onDisconnect(conn sio.Conn, reason string) {
	a.printf("socket.io: %s left (%s)", nameOf(conn), reason)
}

// nameOf is the name a client gave in its handshake (?name=...).
func nameOf(conn sio.Conn) string {
	if u := conn.URL(); u.Query().Get("name") != "" {
		name := u.Query().Get("name")
		if len(name) > 40 {
			name = name[:40]
		}
		return name
	}
	return "anonymous-" + conn.ID()
}
