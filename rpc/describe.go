package rpc

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// What a Router knows of its methods, for a service that describes
// itself (OpenRPC's rpc.discover, in package rpc/openrpc): each method's
// name, a description given at registration ([Described]), and the Go
// types of its params and result, which handlers made by [Func] and
// [Router.RegisterFunc] tell.

// DiscoverMethod is the method with which a client asks a service to
// describe itself, after OpenRPC. It is reserved, as every "rpc." name
// is: only [Router.RegisterDiscover] registers it.
const DiscoverMethod = "rpc.discover"

// MethodInfo describes one method of a [Router].
type MethodInfo struct {
	// Name is the method's name.
	Name string
	// Description is the text given with [Described], or "".
	Description string
	// Typed reports whether the handler told its Go types: true for
	// handlers made by [Func] and [Router.RegisterFunc].
	Typed bool
	// Params is the Go type the params are decoded into; nil when the
	// method takes none or is not Typed.
	Params reflect.Type
	// Result is the Go type of the result; nil when the method answers
	// none (null) or is not Typed.
	Result reflect.Type
}

// Described returns h with a description of what the method does, which
// [Router.Describe] reports (and rpc.discover, through package
// rpc/openrpc). It serves calls exactly as h does; [Inline] is kept,
// whichever of the two wraps the other.
func Described(h Handler, description string) Handler {
	if h == nil {
		return nil
	}
	if ih, ok := h.(inlineHandler); ok {
		return inlineHandler{describedHandler{ih.Handler, description}}
	}
	return describedHandler{h, description}
}

// describedHandler is a handler with a description.
type describedHandler struct {
	Handler
	description string
}

// typed is implemented by handlers that know their Go types.
type typed interface {
	types() (params, result reflect.Type)
}

// funcHandler is [Func]'s handler.
type funcHandler[P, R any] struct {
	f func(ctx context.Context, params P) (R, error)
}

// Handle decodes the params into P, calls the function, and returns its
// result.
func (h funcHandler[P, R]) Handle(ctx context.Context, req *Request) (any, error) {
	var p P
	if err := req.DecodeParams(&p); err != nil {
		return nil, err
	}
	return h.f(ctx, p)
}

func (funcHandler[P, R]) types() (reflect.Type, reflect.Type) {
	return reflect.TypeFor[P](), reflect.TypeFor[R]()
}

// typedHandler is [Router.RegisterFunc]'s handler: a HandlerFunc and the
// types of the function it calls (nil when absent).
type typedHandler struct {
	params, result reflect.Type
	HandlerFunc
}

func (h typedHandler) types() (reflect.Type, reflect.Type) { return h.params, h.result }

// Describe returns a description of each registered method, sorted by
// name. The reserved [DiscoverMethod] is not listed.
func (r *Router) Describe() []MethodInfo {
	m := r.methods.Load()
	if m == nil {
		return nil
	}
	infos := make([]MethodInfo, 0, len(*m))
	for name, h := range *m {
		if name == DiscoverMethod {
			continue
		}
		info := MethodInfo{Name: name}
		for h != nil {
			switch x := h.(type) {
			case inlineHandler:
				h = x.Handler
				continue
			case describedHandler:
				if info.Description == "" {
					info.Description = x.description
				}
				h = x.Handler
				continue
			case typed:
				info.Typed = true
				info.Params, info.Result = x.types()
			}
			h = nil
		}
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b MethodInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// RegisterDiscover registers h as the handler of [DiscoverMethod], the
// one name under the reserved "rpc." prefix that a service may serve
// (package rpc/openrpc does it for its documents). It fails if one is
// registered already.
func (r *Router) RegisterDiscover(h Handler) error {
	if h == nil {
		return fmt.Errorf("rpc: RegisterDiscover: nil handler")
	}
	return r.add(DiscoverMethod, h)
}
