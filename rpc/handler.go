package rpc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/parleyrpc/parley/codec"
)

// Handler serves the calls and notifications a peer receives.
//
// Handle runs concurrently with the peer's other handlers for a call
// (first on the goroutine that read the call, where the transport allows,
// until it blocks; see the package documentation), and on the peer's
// notification goroutine for a notification (so notifications are handled
// one at a time, in arrival order). For a call, the result is encoded and
// sent back, or the error is: an [*Error] as it is, a context error as
// [CodeRequestCancelled] or [CodeDeadlineExceeded], any other error as
// [CodeServerError] with the error's text. For a notification, the result
// is dropped and an error is logged.
//
// ctx is cancelled when the caller cancels the call or the peer ends; it
// carries the peer ([PeerFromContext]). A handler may call back into the
// peer that called it.
type Handler interface {
	Handle(ctx context.Context, req *Request) (result any, err error)
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, req *Request) (any, error) { return f(ctx, req) }

var _ Handler = HandlerFunc(nil)

// Request is a call or notification received from the other end.
type Request struct {
	// Method is the method name.
	Method string
	// ID is the call's id; it is zero for a notification.
	ID codec.ID

	params []byte
	peer   *Peer
}

// IsNotification reports whether no answer is expected.
func (r *Request) IsNotification() bool { return r.ID.IsZero() }

// Peer returns the peer that received the request.
func (r *Request) Peer() *Peer { return r.peer }

// Params returns the encoded params, not yet decoded.
func (r *Request) Params() Raw { return Raw{data: r.params, codec: r.peer.codec} }

// DecodeParams decodes the params into v, a non-nil pointer. Absent params
// leave v untouched. A failure is an [*Error] with [CodeInvalidParams], so
// a handler can return it as it is.
func (r *Request) DecodeParams(v any) error {
	if r.params == nil {
		return nil
	}
	if err := r.peer.codec.Unmarshal(r.params, v); err != nil {
		return &Error{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid params for %s: %v", clip(r.Method, maxEchoedName), err)}
	}
	return nil
}

// Func returns a Handler that decodes the params into a P, calls f, and
// answers with its result. The signature is checked by the compiler.
func Func[P, R any](f func(ctx context.Context, params P) (R, error)) Handler {
	return funcHandler[P, R]{f} // see describe.go: it tells its types
}

// Router is a [Handler] that dispatches on the method name. Methods are
// registered before or while serving; lookups take no lock. A call to an
// unknown method is answered [CodeMethodNotFound]; a notification of one
// is dropped.
type Router struct {
	mu      sync.Mutex // serialises registrations
	methods atomic.Pointer[map[string]Handler]
}

// NewRouter returns an empty router.
func NewRouter() *Router { return new(Router) }

var _ Handler = (*Router)(nil)

// Register adds h for method. It fails for an empty or reserved name
// (beginning with "rpc." or "$/"), a nil handler, or a name registered
// already.
func (r *Router) Register(method string, h Handler) error {
	if err := checkMethodName(method); err != nil {
		return err
	}
	if method == DiscoverMethod {
		return fmt.Errorf("rpc: Register(%q): reserved: use RegisterDiscover", method)
	}
	if h == nil {
		return fmt.Errorf("rpc: Register(%q): nil handler", method)
	}
	return r.add(method, h)
}

// add registers h for method, a name already checked.
func (r *Router) add(method string, h Handler) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.methods.Load()
	next := make(map[string]Handler, 1)
	if old != nil {
		if _, dup := (*old)[method]; dup {
			return fmt.Errorf("rpc: Register(%q): method already registered", method)
		}
		for k, v := range *old {
			next[k] = v
		}
	}
	next[method] = h
	r.methods.Store(&next)
	return nil
}

// RegisterFunc adds a plain Go function for method, checking its signature
// once, now. fn must be one of
//
//	func(context.Context, P) (R, error)
//	func(context.Context, P) error
//	func(context.Context) (R, error)
//	func(context.Context) error
//
// for any types P and R the codec can decode and encode. For typed code
// prefer Register(method, Func(fn)), which the compiler checks.
func (r *Router) RegisterFunc(method string, fn any) error {
	h, err := reflectHandler(fn)
	if err != nil {
		return fmt.Errorf("rpc: RegisterFunc(%q): %w", method, err)
	}
	return r.Register(method, h)
}

// Methods returns the registered method names, in no particular order.
func (r *Router) Methods() []string {
	m := r.methods.Load()
	if m == nil {
		return nil
	}
	names := make([]string, 0, len(*m))
	for k := range *m {
		names = append(names, k)
	}
	return names
}

// Handle dispatches req to the handler registered for its method.
func (r *Router) Handle(ctx context.Context, req *Request) (any, error) {
	if m := r.methods.Load(); m != nil {
		if h, ok := (*m)[req.Method]; ok {
			return h.Handle(ctx, req)
		}
	}
	return nil, &Error{Code: CodeMethodNotFound, Message: "method not found: " + clip(req.Method, maxEchoedName)}
}

// maxEchoedName bounds how much of a caller's method name an error message
// repeats back: a huge name must not make a huge answer.
const maxEchoedName = 128

// clip returns s cut to at most n bytes, on a UTF-8 boundary, marked with
// an ellipsis if cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func checkMethodName(method string) error {
	switch {
	case method == "":
		return errors.New("rpc: empty method name")
	case method == DiscoverMethod:
		return nil // callable; served only through RegisterDiscover
	case strings.HasPrefix(method, "rpc."), strings.HasPrefix(method, "$/"):
		return fmt.Errorf("rpc: method name %q is reserved for the protocol", method)
	}
	return nil
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// reflectHandler builds a Handler from a function value, or says why not.
func reflectHandler(fn any) (Handler, error) {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("want a function, got %T", fn)
	}
	t := v.Type()
	if t.IsVariadic() || t.NumIn() < 1 || t.NumIn() > 2 || t.In(0) != contextType {
		return nil, fmt.Errorf("%v: want func(context.Context[, P]) ([R, ]error)", t)
	}
	if t.NumOut() < 1 || t.NumOut() > 2 || t.Out(t.NumOut()-1) != errorType {
		return nil, fmt.Errorf("%v: the last result must be error", t)
	}
	hasParams, hasResult := t.NumIn() == 2, t.NumOut() == 2
	var pt reflect.Type
	if hasParams {
		pt = t.In(1)
	}
	var rt reflect.Type
	if hasResult {
		rt = t.Out(0)
	}
	return typedHandler{pt, rt, HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		args := []reflect.Value{reflect.ValueOf(ctx)}
		if hasParams {
			p := reflect.New(pt)
			if err := req.DecodeParams(p.Interface()); err != nil {
				return nil, err
			}
			args = append(args, p.Elem())
		}
		out := v.Call(args)
		err, _ := out[len(out)-1].Interface().(error)
		if err != nil || !hasResult {
			return nil, err
		}
		return out[0].Interface(), nil
	})}, nil
}
