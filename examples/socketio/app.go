package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// app is the socket.io application that was there before Parley, on
// github.com/zishang520/socket.io (socket.io-client 4): a chat room on the
// event "chat" and an "echo" answered by acknowledgement. Nothing here
// knows about Parley.
type app struct {
	io *socket.Server
	*printer
}

// registerEvents sets up the application's own events, as any
// socket.io server has them.
func (a *app) registerEvents() {
	_ = a.io.On("connection", func(args ...any) {
		s := args[0].(*socket.Socket)
		name := nameOf(s)
		s.Join("lobby")
		a.printf("socket.io: %s connected (socket %s)", name, s.Id())
		_ = s.On("chat", func(args ...any) {
			text, _ := first(args).(string)
			line := name + ": " + text
			a.printf("chat %s", line)
			_ = a.io.To("lobby").Emit("chat", line)
			answer(args, "sent")
		})
		_ = s.On("echo", func(args ...any) {
			answer(args, fmt.Sprint("echo: ", first(args)))
		})
		_ = s.On("disconnect", func(args ...any) {
			a.printf("socket.io: %s left (%v)", name, first(args))
		})
	})
}

// nameOf is the name a client gave in its handshake (auth: {name}).
func nameOf(s *socket.Socket) string {
	if name, _ := s.Handshake().Auth["name"].(string); name != "" {
		return clip(name)
	}
	return "anonymous-" + string(s.Id())
}

func clip(name string) string {
	if len(name) > 40 {
		return name[:40]
	}
	return name
}

// first is an event's first argument, or nil.
func first(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// answer acknowledges an event, if the client asked for it (its last
// argument is then the acknowledgement).
func answer(args []any, v any) {
	if len(args) > 0 {
		if ack, ok := args[len(args)-1].(socket.Ack); ok {
			ack([]any{v}, nil)
		}
	}
}

// printer prints the program's lines; the application's hooks and
// Parley's may still run after the program ends, when it stops printing.
type printer struct {
	mu  sync.Mutex
	out io.Writer // nil once the program has stopped
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out != nil {
		fmt.Fprintf(p.out, format+"\n", args...)
	}
}

// silence stops all printing.
func (p *printer) silence() {
	p.mu.Lock()
	p.out = nil
	p.mu.Unlock()
}
