package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// askTimeout bounds each device's answer: a slow or gone device fails
// alone while the others answer.
const askTimeout = 2 * time.Second

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// server keeps the connected devices by name and asks them for their
// status.
type server struct {
	con     *console
	devices rpc.PeerSet
	ws      *websocket.Server
	rounds  int // touched by the gathering loop only
}

// run serves devices on addr until ctx ends: WebSocket at /devices
// (?name=...), every device's answers as JSON at /gather. Every interval
// (if not zero) it asks all devices for their status and prints the
// answers.
func run(ctx context.Context, addr string, every time.Duration, out io.Writer) error {
	s := &server{con: &console{out: out}}
	s.devices.OnJoin = func(name string, _ *rpc.Peer) {
		s.con.printf("device %s connected (%d online)", name, s.devices.Len())
	}
	s.devices.OnLeave = func(name string, _ *rpc.Peer, err error) {
		s.con.printf("device %s left: %v (%d online)", name, err, s.devices.Len())
	}
	ws, err := websocket.NewServer(&websocket.ServerOptions{
		// A real server would check a device token here too.
		Accept: func(r *http.Request) ([]rpc.Option, error) {
			if !validName.MatchString(r.URL.Query().Get("name")) {
				return nil, &websocket.HTTPError{Status: http.StatusBadRequest, Message: "name: 1 to 32 letters, digits, - or _"}
			}
			return nil, nil
		},
		OnConnect: s.connect,
	})
	if err != nil {
		return err
	}
	s.ws = ws

	mux := http.NewServeMux()
	mux.Handle("/devices", ws)
	mux.HandleFunc("GET /gather", s.serveGather)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Parley devices server: %d online. GET /gather asks them all; devices dial ws://%s/devices?name=NAME\n", s.devices.Len(), r.Host)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		ws.Close()
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	s.con.printf("Parley devices server on http://%s: devices dial ws://%s/devices?name=NAME", ln.Addr(), ln.Addr())

	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
loop:
	for {
		select {
		case <-tick:
			if s.devices.Len() > 0 {
				s.printRound(s.gather(ctx))
			}
		case err = <-served:
			break loop
		case <-ctx.Done():
			break loop
		}
	}

	ws.Close() // every device's link ends; they will re-dial
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if serr := hs.Shutdown(sctx); err == nil {
		err = serr
	}
	s.con.printf("server stopped")
	s.con.silence()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// connect puts a new device in the set under its name. If the name is
// taken, the server asks the device holding it whether it is still there:
// a device whose NAT forgot its old connection re-dials before the server
// notices the old link is dead, and must get its name back; while a live
// device holds the name, a second one with the same name is refused.
func (s *server) connect(p *rpc.Peer, r *http.Request) {
	name := r.URL.Query().Get("name")
	_, err := s.devices.Add(name, p)
	if err != nil {
		if old, ok := s.devices.Get(name); ok && old != p {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, alive := rpc.Call[Status](ctx, old, "status", nil)
			cancel()
			if alive == nil {
				err = errors.New("the name is in use by a live device")
			} else {
				old.Close()
				_, err = s.devices.Add(name, p)
			}
		}
	}
	if err != nil {
		s.con.printf("device %s refused: %v", name, err)
		p.Close()
	}
}

// Answer is one device's answer to a gathering.
type Answer struct {
	Device string  `json:"device"`
	Status *Status `json:"status,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// gather asks every device at once for its status, each bounded by
// askTimeout, and returns the answers sorted by device name.
func (s *server) gather(ctx context.Context) []Answer {
	replies := rpc.CallAll[Status](ctx, &s.devices, "status", nil, askTimeout)
	answers := make([]Answer, len(replies))
	for i, r := range replies {
		answers[i] = Answer{Device: r.ID}
		if r.Err != nil {
			answers[i].Error = r.Err.Error()
		} else {
			answers[i].Status = &r.Result
		}
	}
	slices.SortFunc(answers, func(a, b Answer) int { return strings.Compare(a.Device, b.Device) })
	return answers
}

// printRound prints a round's answers in one piece, so that other lines
// cannot fall between them.
func (s *server) printRound(answers []Answer) {
	s.rounds++
	var b strings.Builder
	fmt.Fprintf(&b, "round %d: asked %d device(s)", s.rounds, len(answers))
	for _, a := range answers {
		if a.Error != "" {
			fmt.Fprintf(&b, "\n  %-12s error: %s", a.Device, a.Error)
			continue
		}
		fmt.Fprintf(&b, "\n  %-12s local time %s, up %s, %.1f °C", a.Device, a.Status.Time, a.Status.Uptime, a.Status.Temperature)
	}
	s.con.printf("%s", b.String())
}

// serveGather asks every device now and answers with their answers.
func (s *server) serveGather(w http.ResponseWriter, r *http.Request) {
	answers := s.gather(r.Context())
	s.con.printf("GET /gather: asked %d device(s)", len(answers))
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(answers)
}
