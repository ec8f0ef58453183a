// Package openrpc makes a Parley service describe itself: it answers
// OpenRPC's rpc.discover with a document (https://spec.open-rpc.org)
// listing every method of an [rpc.Router], with its description and its
// params and result as JSON Schema derived from the Go types of its
// handler.
//
//	router := rpc.NewRouter()
//	router.Register("add", rpc.Described(rpc.Func(add), "Adds two numbers."))
//	openrpc.Register(router, openrpc.Info{Title: "calculator", Version: "1.0.0"})
//
// A client (or a tool that generates clients and documentation: the
// OpenRPC playground, its generator) then calls rpc.discover with no
// params. The document is built on each call, from the methods registered
// then.
//
// What is derived from the Go types of a method registered with
// [rpc.Func] or [rpc.Router.RegisterFunc]:
//
//   - Params that are a struct (or a pointer to one) are named params
//     (paramStructure "by-name"): one content descriptor per field, by its
//     JSON name, required unless tagged omitempty or omitzero; a
//     jsonschema struct tag is the field's description.
//   - Params that are a fixed-size array are positional ("by-position"),
//     one descriptor per position.
//   - Any other params (a slice, a map, any, rpc.Raw) are described as a
//     whole, by one descriptor named "params" marked with the extension
//     "x-parley-whole-params": true, since OpenRPC can describe only named
//     or positional params one by one.
//   - A method that takes no params has none; one whose handler did not
//     tell its types (a plain rpc.HandlerFunc) has its params and result
//     described as anything.
//
// Schemas come from github.com/google/jsonschema-go, whose inferred
// schemas are self-contained (no $ref), as OpenRPC content descriptors
// want them; rpc.Raw and json.RawMessage are described as anything, a
// type that cannot be described (a recursive one, a channel) as anything
// too, with a note. This package is the only one in Parley that imports
// it: the core stays on the standard library.
package openrpc
