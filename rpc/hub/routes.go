package hub

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// Policy says which registrant of a shared procedure a routed call goes
// to, after WAMP's invocation policies. The first registrant of a name
// chooses it; a later one must ask for the same policy.
type Policy string

// The invocation policies.
const (
	// Single allows one registrant only: a second registration of the
	// name is refused with [CodeProcedureExists]. It is the default.
	Single Policy = "single"
	// RoundRobin takes the registrants in turn.
	RoundRobin Policy = "roundrobin"
	// Random takes one at random.
	Random Policy = "random"
	// First takes the earliest registrant still registered.
	First Policy = "first"
	// Last takes the latest.
	Last Policy = "last"
)

func (p Policy) valid() bool {
	switch p {
	case Single, RoundRobin, Random, First, Last:
		return true
	}
	return false
}

// procedure is a registered name and its registrants, oldest first.
type procedure struct {
	policy  Policy
	callees []*member
	next    int // RoundRobin's turn
}

// checkProcedure checks a procedure name: a method name the callee can be
// called by, outside the protocol's ("rpc.", "$/") and the hub's ("hub.")
// prefixes.
func (h *Hub) checkProcedure(name string) error {
	switch {
	case name == "":
		return invalid("empty procedure name")
	case len(name) > h.opts.MaxNameLength:
		return invalid("procedure name of %d bytes exceeds the limit of %d", len(name), h.opts.MaxNameLength)
	case strings.HasPrefix(name, "rpc."), strings.HasPrefix(name, "$/"), strings.HasPrefix(name, Prefix):
		return invalid("procedure name %q is reserved", clip(name))
	}
	return nil
}

// Register registers p as a callee of the procedure name: calls to name
// through the hub are forwarded to p as calls of the method name. policy
// may be empty for [Single]. Registering again a name p has registered
// already changes nothing. It fails for an invalid name or policy, a
// policy other than the name's, a Single name taken, a peer that has
// ended, or a bound reached.
func (h *Hub) Register(p *rpc.Peer, name string, policy Policy) error {
	if err := h.checkProcedure(name); err != nil {
		return err
	}
	if policy == "" {
		policy = Single
	}
	if !policy.valid() {
		return invalid("unknown invocation policy %q (want single, roundrobin, random, first or last)", clip(string(policy)))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m, err := h.memberOf(p)
	if err != nil {
		return err
	}
	if _, ok := m.procs[name]; ok {
		return nil
	}
	if len(m.procs) >= h.opts.MaxRegistrationsPerPeer {
		return limit("this peer has registered %d procedures already, the limit", len(m.procs))
	}
	pr := h.procs[name]
	switch {
	case pr == nil:
		pr = &procedure{policy: policy}
		h.procs[name] = pr
		if h.opts.Cluster != nil {
			h.opts.Cluster.Registered(name, policy)
		}
	case pr.policy == Single:
		return &rpc.Error{Code: CodeProcedureExists, Message: fmt.Sprintf("hub: procedure %q is registered already", clip(name))}
	case pr.policy != policy:
		return &rpc.Error{Code: CodeProcedureExists, Message: fmt.Sprintf("hub: procedure %q is registered with policy %s, not %s", clip(name), pr.policy, policy)}
	case len(pr.callees) >= h.opts.MaxRegistrantsPerProcedure:
		return limit("procedure %q has %d registrants already, the limit", clip(name), len(pr.callees))
	}
	pr.callees = append(pr.callees, m)
	m.procs[name] = struct{}{}
	return nil
}

// Unregister ends p's registration of name, and reports whether there was
// one. Calls already forwarded to p go on.
func (h *Hub) Unregister(p *rpc.Peer, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := h.members[p]
	if m == nil {
		return false
	}
	return h.unregisterLocked(m, name)
}

func (h *Hub) unregisterLocked(m *member, name string) bool {
	if _, ok := m.procs[name]; !ok {
		return false
	}
	delete(m.procs, name)
	pr := h.procs[name]
	if pr == nil {
		return true
	}
	if i := slices.Index(pr.callees, m); i >= 0 {
		pr.callees = slices.Delete(pr.callees, i, i+1)
		if pr.next > i {
			pr.next--
		}
	}
	if len(pr.callees) == 0 {
		delete(h.procs, name)
		if h.opts.Cluster != nil {
			h.opts.Cluster.Unregistered(name)
		}
	}
	return true
}

// Registrants returns the peers registered for name, oldest first.
func (h *Hub) Registrants(name string) []*rpc.Peer {
	h.mu.RLock()
	defer h.mu.RUnlock()
	pr := h.procs[name]
	if pr == nil {
		return nil
	}
	out := make([]*rpc.Peer, len(pr.callees))
	for i, m := range pr.callees {
		out[i] = m.peer
	}
	return out
}

// Procedures returns the names registered on this hub.
func (h *Hub) Procedures() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	names := make([]string, 0, len(h.procs))
	for n := range h.procs {
		names = append(names, n)
	}
	return names
}

// pick chooses the callee of a call to name, or nil if there is none.
func (h *Hub) pick(name string) *rpc.Peer {
	h.mu.Lock() // RoundRobin moves its turn
	defer h.mu.Unlock()
	pr := h.procs[name]
	if pr == nil || len(pr.callees) == 0 {
		return nil
	}
	var m *member
	switch pr.policy {
	case RoundRobin:
		if pr.next >= len(pr.callees) {
			pr.next = 0
		}
		m = pr.callees[pr.next]
		pr.next++
	case Random:
		m = pr.callees[rand.IntN(len(pr.callees))]
	case Last:
		m = pr.callees[len(pr.callees)-1]
	default: // Single, First
		m = pr.callees[0]
	}
	return m.peer
}

// Call calls the procedure name through the hub, as Go code on the server:
// the call goes to a registrant chosen by the name's policy (or, with a
// Cluster and none here, to another node), and its answer or error comes
// back, decoded into result as [rpc.Peer.Call] does. It ends with the
// callee's answer, ctx's end (the callee is told with $/cancelRequest),
// Options.CallTimeout ([CodeTimeout]), or at once when the callee's
// connection drops ([CodeCalleeGone]). Nothing is retried.
func (h *Hub) Call(ctx context.Context, name string, params, result any) error {
	return h.call(ctx, name, params, result, nil, 0, true)
}

// CallWithProgress is [Hub.Call] asking for partial results, as
// [rpc.CallWithProgress] does: each one the callee sends is passed to fn,
// in order, before the call returns.
func (h *Hub) CallWithProgress(ctx context.Context, name string, params, result any, fn func(rpc.Raw)) error {
	return h.call(ctx, name, params, result, fn, 0, true)
}

// CallLocal is [Hub.Call] restricted to this node's registrants, with
// partial results passed to fn if it is not nil: for a Cluster serving a
// call made on another node.
func (h *Hub) CallLocal(ctx context.Context, name string, params, result any, fn func(rpc.Raw)) error {
	return h.call(ctx, name, params, result, fn, 0, false)
}

// call routes one call; timeout is the call's own (zero: none).
func (h *Hub) call(ctx context.Context, name string, params, result any, fn func(rpc.Raw), timeout time.Duration, spread bool) error {
	if err := h.checkProcedure(name); err != nil {
		return err
	}
	if h.pending.Add(1) > int64(h.opts.MaxPendingCalls) {
		h.pending.Add(-1)
		return limit("%d routed calls are in flight, the limit", h.opts.MaxPendingCalls)
	}
	defer h.pending.Add(-1)
	h.calls.Add(1)
	if d := h.opts.CallTimeout; d > 0 && (timeout <= 0 || d < timeout) {
		timeout = d
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimeout)
		defer cancel()
	}
	callee := h.pick(name)
	var err error
	switch {
	case callee != nil:
		err = rpc.CallWithProgress(ctx, callee, name, params, result, fn)
		if fn != nil && errors.Is(err, rpc.ErrProgressParams) {
			// Positional params carry no token: no partial results.
			err = callee.Call(ctx, name, params, result)
		}
	case spread && h.opts.Cluster != nil:
		err = h.opts.Cluster.Call(ctx, name, params, result, fn)
	default:
		err = &rpc.Error{Code: CodeNoSuchProcedure, Message: fmt.Sprintf("hub: no callee registered for %q", clip(name))}
	}
	if err == nil {
		if r, ok := result.(*rpc.Raw); ok && callee != nil {
			*r = bind(*r, callee) // a CBOR callee's result comes without its codec
		}
		return nil
	}
	h.callErrors.Add(1)
	switch {
	case rpc.IsRemote(err):
		return err // the callee's own error, passed on as it is
	case errors.Is(context.Cause(ctx), errTimeout):
		return &rpc.Error{Code: CodeTimeout, Message: fmt.Sprintf("hub: call to %q timed out after %v", clip(name), timeout)}
	case callee != nil && ctx.Err() == nil && errors.Is(err, rpc.ErrConnectionLost), callee != nil && errors.Is(err, rpc.ErrClosed):
		return &rpc.Error{Code: CodeCalleeGone, Message: fmt.Sprintf("hub: the callee of %q disconnected before answering", clip(name))}
	}
	return err
}

var errTimeout = errors.New("hub: routed call timed out")
