package hub

import (
	"fmt"
	"unicode/utf8"

	"github.com/parleyrpc/parley/rpc"
)

// The hub's error codes, in JSON-RPC 2.0's range for implementation-defined
// server errors. A refused or failed action always gets one of these (or a
// standard code) as a JSON-RPC error: never silence.
const (
	// CodeNotAuthorized: Options.Authorize refused the action.
	CodeNotAuthorized rpc.Code = -32010
	// CodeNoSuchProcedure: a routed call to a name nobody registered.
	CodeNoSuchProcedure rpc.Code = -32011
	// CodeProcedureExists: a registration that the name's invocation
	// policy does not allow (a second registrant of a Single name, or a
	// different policy).
	CodeProcedureExists rpc.Code = -32012
	// CodeCalleeGone: the callee's connection dropped before it answered.
	CodeCalleeGone rpc.Code = -32013
	// CodeLimit: one of the bounds in [Options] was reached.
	CodeLimit rpc.Code = -32014
	// CodeTimeout: a routed call's timeout passed (the callee was told
	// with $/cancelRequest). It is rpc's deadline code.
	CodeTimeout = rpc.CodeDeadlineExceeded
)

// Sentinels for errors.Is, which compares codes.
var (
	ErrNotAuthorized   = &rpc.Error{Code: CodeNotAuthorized, Message: "not authorized"}
	ErrNoSuchProcedure = &rpc.Error{Code: CodeNoSuchProcedure, Message: "no such procedure"}
	ErrProcedureExists = &rpc.Error{Code: CodeProcedureExists, Message: "procedure exists"}
	ErrCalleeGone      = &rpc.Error{Code: CodeCalleeGone, Message: "callee gone"}
	ErrLimit           = &rpc.Error{Code: CodeLimit, Message: "limit reached"}
	ErrTimeout         = &rpc.Error{Code: CodeTimeout, Message: "timeout"}
)

func invalid(format string, args ...any) error {
	return &rpc.Error{Code: rpc.CodeInvalidParams, Message: "hub: " + fmt.Sprintf(format, args...)}
}

func limit(format string, args ...any) error {
	return &rpc.Error{Code: CodeLimit, Message: "hub: " + fmt.Sprintf(format, args...)}
}

// clip shortens a client's name for an error message, so that a huge name
// does not make a huge answer.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
