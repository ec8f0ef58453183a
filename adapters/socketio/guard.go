package socketio

import (
	"fmt"
	"reflect"

	sio "github.com/googollee/go-socket.io"
)

// registered lists the handlers of namespace ns on srv that Attach would
// replace: OnConnect, OnDisconnect, OnError and OnEvent(event).
//
// go-socket.io v1.7.0 has setters for these and no getters, and a setter
// replaces the previous handler silently, so a user who registered an
// OnConnect before Attach would lose it without knowing. This reads the
// server's unexported handler table by reflection (reading only: nothing
// is called or changed). The module is pinned and its repository
// archived; if the layout is not the one expected, the check finds
// nothing and Attach goes on, as it would without it.
func registered(srv *sio.Server, ns, event string) (taken []string) {
	defer func() {
		if recover() != nil {
			taken = nil
		}
	}()
	if ns == "/" {
		ns = "" // go-socket.io keeps the root namespace under ""
	}
	table := reflect.ValueOf(srv).Elem().FieldByName("handlers") // *namespaceHandlers
	if table.Kind() != reflect.Pointer || table.IsNil() {
		return nil
	}
	byName := table.Elem().FieldByName("handlers") // map[string]*namespaceHandler
	if byName.Kind() != reflect.Map {
		return nil
	}
	h := byName.MapIndex(reflect.ValueOf(ns))
	if !h.IsValid() || h.Kind() != reflect.Pointer || h.IsNil() {
		return nil
	}
	h = h.Elem()
	for _, f := range [...]struct{ field, name string }{
		{"onConnect", "an OnConnect handler"},
		{"onDisconnect", "an OnDisconnect handler"},
		{"onError", "an OnError handler"},
	} {
		if v := h.FieldByName(f.field); v.Kind() == reflect.Func && !v.IsNil() {
			taken = append(taken, f.name)
		}
	}
	if events := h.FieldByName("events"); events.Kind() == reflect.Map {
		if e := events.MapIndex(reflect.ValueOf(event)); e.IsValid() && !e.IsZero() {
			taken = append(taken, fmt.Sprintf("a handler for event %q", event))
		}
	}
	return taken
}
