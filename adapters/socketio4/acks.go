package socketio4

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/rpc"
)

// Socket.IO's own acknowledgements as calls.
//
// Inbound, an event the server's Methods claims becomes a request (with an
// acknowledgement) or a notification (without) handed to the peer like
// any other message; the request's id is a string the adapter makes up
// and keeps with the acknowledgement. When the peer's answer comes to
// Send with that id, it goes to the acknowledgement instead of the event.
//
// Outbound, on a socket whose client takes the server's calls as events,
// Send turns a request into an emit with an acknowledgement registered
// under a fresh id of the namespace, and a timer; a notification into a
// plain emit. The acknowledgement, the timer or the caller's
// $/cancelRequest, whichever comes first, settles the call.

// cancelMethod is the notification a Parley caller sends when it gives up.
const cancelMethod = "$/cancelRequest"

// inAckPrefix begins the ids of the client's calls made with events.
const inAckPrefix = "socket.io ack "

// outCall is one of the server's calls sent as an event.
type outCall struct {
	id      int64  // the peer's id
	sockID  uint64 // the acknowledgement's id on the socket, once written
	written bool
	timer   *time.Timer
}

// isMethod reports whether an event is served as a call.
func (s *Server) isMethod(ev string) (ok bool) {
	if ev == "" || ev == s.event || strings.HasPrefix(ev, "$/") || strings.HasPrefix(ev, "rpc.") || slices.Contains(reservedEvents, ev) {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.methods(ev)
}

// receiveCall hands an event that is a call (or a notification, without
// an acknowledgement) to the peer as a JSON-RPC request.
func (t *transport) receiveCall(method string, args []any, ack socket.Ack) {
	params, err := t.params(args)
	if err != nil {
		if ack != nil {
			t.answerAck(ack, errorArgs(int64(rpc.CodeInvalidParams), "invalid params for "+method+": "+err.Error(), nil))
		}
		return
	}
	var id codec.ID
	var key string
	if ack != nil {
		t.mu.Lock()
		if t.ended {
			t.mu.Unlock()
			return
		}
		t.nextIn++
		key = inAckPrefix + strconv.FormatUint(t.nextIn, 10)
		t.inAcks[key] = ack
		t.inPending.Add(1)
		t.mu.Unlock()
		id = codec.String(key)
	}
	msg, err := t.codec.AppendMessage(nil, &codec.Message{ID: id, Method: method, Params: params})
	if err == nil && len(msg) > t.maxSize() {
		err = fmt.Errorf("message of %d bytes exceeds the limit of %d", len(msg), t.maxSize())
	}
	if err != nil {
		// The peer would answer with a null id, which reaches no
		// acknowledgement: answer here.
		if ack != nil && t.takeInAck(id) != nil {
			t.answerAck(ack, errorArgs(int64(rpc.CodeInvalidRequest), err.Error(), nil))
		}
		return
	}
	t.deliver(msg)
}

// answerAck queues an acknowledgement; the writer sends it.
func (t *transport) answerAck(ack socket.Ack, args []any) {
	_ = t.enqueue(context.Background(), func() { ack(args, nil) })
}

// takeInAck removes and returns the acknowledgement of one of the client's
// calls, or nil if id names none.
func (t *transport) takeInAck(id codec.ID) socket.Ack {
	key, ok := id.Str()
	if !ok || !strings.HasPrefix(key, inAckPrefix) {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ack := t.inAcks[key]
	if ack != nil {
		delete(t.inAcks, key)
		t.inPending.Add(-1)
	}
	return ack
}

// params turns an event's arguments into JSON-RPC params: none for no
// argument, the object itself (named params) for one object, and the
// array of the arguments (positional params) otherwise. Binary
// attachments become bytes (base64 text in JSON, byte strings in CBOR).
func (t *transport) params(args []any) ([]byte, error) {
	var v any
	switch {
	case len(args) == 0:
		return nil, nil
	case len(args) == 1:
		if m, ok := args[0].(map[string]any); ok {
			v = plain(m)
			break
		}
		fallthrough
	default:
		v = plain(args)
	}
	return t.codec.Marshal(v)
}

// plain replaces socket.io's binary buffers in v by byte slices.
func plain(v any) any {
	switch x := v.(type) {
	case types.BufferInterface:
		return bytes.Clone(x.Bytes())
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

// route sends a message that may concern acknowledgements or events.
func (t *transport) route(ctx context.Context, msg []byte) error {
	msgs, batch, err := t.codec.Decode(nil, msg)
	if err != nil {
		return t.enqueue(ctx, t.rpcEmit(msg))
	}
	if batch {
		// A batch of answers is JSON-RPC on the event; only the peer's
		// own batches of calls and notifications go as events.
		if !t.events || !slices.ContainsFunc(msgs, func(m codec.Message) bool { return m.IsRequest() }) {
			return t.enqueue(ctx, t.rpcEmit(msg))
		}
	}
	for i := range msgs {
		m := &msgs[i]
		if !m.IsRequest() {
			if ack := t.takeInAck(m.ID); ack != nil {
				args := t.ackArgs(m)
				if err := t.enqueue(ctx, func() { ack(args, nil) }); err != nil {
					return err
				}
				continue
			}
		}
		if !t.events || !m.IsRequest() {
			if !batch {
				return t.enqueue(ctx, t.rpcEmit(msg))
			}
			continue // not reached: such batches went out whole above
		}
		if err := t.emitRequest(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// emitRequest sends one of the peer's calls or notifications as an event.
func (t *transport) emitRequest(ctx context.Context, m *codec.Message) error {
	switch {
	case m.Method == cancelMethod:
		t.cancelOut(m.Params)
		return nil
	case strings.HasPrefix(m.Method, "$/"):
		return nil // protocol notifications mean nothing to a socket.io client
	case m.Method == t.srv.event || slices.Contains(reservedEvents, m.Method):
		if id, ok := m.ID.Int(); ok {
			t.settleLater(id, nil, &codec.Error{Code: int64(rpc.CodeInvalidRequest),
				Message: fmt.Sprintf("socketio4: %q cannot be sent as an event: socket.io or the adapter reserves it", m.Method)})
		}
		return nil
	}
	args, err := t.emitArgs(m.Params)
	if err != nil {
		if id, ok := m.ID.Int(); ok {
			t.settleLater(id, nil, &codec.Error{Code: int64(rpc.CodeInternalError), Message: "socketio4: decoding the params: " + err.Error()})
		}
		return nil
	}
	data := append([]any{m.Method}, args...)
	if m.IsNotification() {
		return t.enqueue(ctx, func() { t.write(&parser.Packet{Type: parser.EVENT, Data: data}) })
	}
	id, ok := m.ID.Int()
	if !ok {
		return nil // the peer's ids are integers
	}
	c := &outCall{id: id}
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return t.closedErr()
	}
	t.out[id] = c
	t.mu.Unlock()
	err = t.enqueue(ctx, func() { t.emitCall(c, data) })
	if err != nil {
		t.mu.Lock()
		delete(t.out, id)
		t.mu.Unlock()
	}
	return err
}

// emitCall writes a call as an event with an acknowledgement, and starts
// its timer. It runs on the writer.
func (t *transport) emitCall(c *outCall, data []any) {
	t.mu.Lock()
	if t.out[c.id] != c {
		t.mu.Unlock()
		return // cancelled before it went out
	}
	sid := t.sock.Nsp().Ids()
	c.sockID, c.written = sid, true
	t.sock.Acks().Store(sid, func(res []any, err error) { t.acked(c, res, err) })
	c.timer = time.AfterFunc(t.srv.ackTimeout, func() { t.ackTimedOut(c) })
	t.mu.Unlock()
	t.write(&parser.Packet{Type: parser.EVENT, Data: data, Id: &sid})
}

// take removes c from the calls waiting, and reports whether it was
// still waiting.
func (t *transport) take(c *outCall) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out[c.id] != c {
		return false
	}
	delete(t.out, c.id)
	if c.timer != nil {
		c.timer.Stop()
	}
	return true
}

// acked settles a call with the client's acknowledgement. It runs on the
// socket's event loop.
func (t *transport) acked(c *outCall, res []any, err error) {
	if !t.take(c) {
		return
	}
	if err != nil {
		t.settle(c.id, nil, &codec.Error{Code: int64(rpc.CodeInternalError), Message: "socketio4: " + err.Error()})
		return
	}
	result, e := t.ackResult(res)
	t.settle(c.id, result, e)
}

// ackTimedOut settles a call whose acknowledgement did not come in time.
func (t *transport) ackTimedOut(c *outCall) {
	if !t.take(c) {
		return
	}
	t.sock.Acks().Delete(c.sockID)
	t.settle(c.id, nil, &codec.Error{Code: int64(rpc.CodeDeadlineExceeded),
		Message: fmt.Sprintf("socketio4: no acknowledgement from the client within %v", t.srv.ackTimeout)})
}

// cancelOut forgets a call its caller gave up on.
func (t *transport) cancelOut(params []byte) {
	var p struct {
		ID int64 `json:"id"`
	}
	if params == nil || t.codec.Unmarshal(params, &p) != nil {
		return
	}
	t.mu.Lock()
	c := t.out[p.ID]
	t.mu.Unlock()
	if c != nil && t.take(c) && c.written {
		t.sock.Acks().Delete(c.sockID)
	}
}

// settle hands the peer the answer to one of its calls.
func (t *transport) settle(id int64, result []byte, e *codec.Error) {
	m := codec.Message{ID: codec.Int(id), Result: result, Error: e}
	if e == nil && result == nil {
		m.Result = t.null()
	}
	b, err := t.codec.AppendMessage(nil, &m)
	if err != nil {
		t.srv.log.Error("socketio4: encoding an answer", "err", err)
		return
	}
	t.deliver(b)
}

// settleLater settles from a goroutine of its own: Send, which decides
// it, may run where a delivery would deadlock.
func (t *transport) settleLater(id int64, result []byte, e *codec.Error) {
	go t.settle(id, result, e)
}

func (t *transport) null() []byte {
	b, err := t.codec.Marshal(nil)
	if err != nil {
		return []byte("null")
	}
	return b
}

// ackResult reads a client's acknowledgement: no argument is a null
// result, one is the result, more are an array; one object whose only
// member is "error", holding a numeric "code", is an error answer.
func (t *transport) ackResult(res []any) ([]byte, *codec.Error) {
	var v any
	switch len(res) {
	case 0:
	case 1:
		v = res[0]
		if e := asError(v); e != nil {
			var data []byte
			if d, ok := e["data"]; ok {
				data, _ = t.codec.Marshal(plain(d))
			}
			code, _ := e["code"].(float64)
			msg, _ := e["message"].(string)
			return nil, &codec.Error{Code: int64(code), Message: msg, Data: data}
		}
	default:
		v = res
	}
	b, err := t.codec.Marshal(plain(v))
	if err != nil {
		return nil, &codec.Error{Code: int64(rpc.CodeInternalError), Message: "socketio4: encoding the acknowledgement: " + err.Error()}
	}
	return b, nil
}

// asError returns the error object of an acknowledgement shaped
// {"error": {"code": n, ...}}, or nil.
func asError(v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		return nil
	}
	if _, ok := e["code"].(float64); !ok {
		return nil
	}
	return e
}

// ackArgs turns the peer's answer into the arguments of an
// acknowledgement: the result, or {"error": {"code", "message", "data"}}.
func (t *transport) ackArgs(m *codec.Message) []any {
	if m.Error != nil {
		var data any
		if m.Error.Data != nil {
			data = t.value(m.Error.Data)
		}
		return errorArgs(m.Error.Code, m.Error.Message, data)
	}
	return []any{t.value(m.Result)}
}

func errorArgs(code int64, message string, data any) []any {
	e := map[string]any{"code": code, "message": message}
	if data != nil {
		e["data"] = data
	}
	return []any{map[string]any{"error": e}}
}

// value turns an encoded value into one socket.io's encoder writes: JSON
// passes verbatim; other codecs' values are decoded (CBOR byte strings
// then go as binary attachments).
func (t *transport) value(b []byte) any {
	if t.rawJSON {
		return stdjson.RawMessage(bytes.Clone(b))
	}
	var v any
	if err := t.codec.Unmarshal(b, &v); err != nil {
		return nil
	}
	return v
}

// emitArgs turns the params of one of the peer's calls into the arguments
// of an event: an array's elements, or an object as one argument.
func (t *transport) emitArgs(params []byte) ([]any, error) {
	if params == nil {
		return nil, nil
	}
	if t.rawJSON {
		p := bytes.TrimLeft(params, " \t\r\n")
		if len(p) > 0 && p[0] == '[' {
			var elems []stdjson.RawMessage // each a copy
			if err := stdjson.Unmarshal(p, &elems); err != nil {
				return nil, err
			}
			args := make([]any, len(elems))
			for i, e := range elems {
				args[i] = e
			}
			return args, nil
		}
		return []any{stdjson.RawMessage(bytes.Clone(p))}, nil
	}
	var v any
	if err := t.codec.Unmarshal(params, &v); err != nil {
		return nil, err
	}
	if a, ok := v.([]any); ok {
		return a, nil
	}
	return []any{v}, nil
}
