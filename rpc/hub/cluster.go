package hub

import (
	"context"

	"github.com/parleyrpc/parley/rpc"
)

// Cluster extends a hub to other nodes (adapters/nats implements it). The
// hub calls it for what reaches beyond this node; the cluster calls back
// [Hub.Deliver] for publishes made elsewhere and [Hub.CallLocal] for calls
// made elsewhere to procedures registered here.
//
// Subscribed, Unsubscribed, Registered and Unregistered report presence:
// the first local subscriber of a pattern or registrant of a procedure,
// and the last one leaving. They run with the hub's lock held, in the
// order the changes happen: they must return quickly and must not call
// the hub. Publish and Call run without it.
type Cluster interface {
	// Publish is called after a publish made on this node (from a client
	// or Go code, not Deliver) was queued for the local subscribers; the
	// cluster sends it to the other nodes. data is what the publisher gave:
	// a Go value, or an rpc.Raw in the publishing client's codec.
	Publish(topic string, data any) error
	// Call is called for a routed call to a procedure with no registrant
	// on this node. It returns as [Hub.Call] does (an error with
	// [CodeNoSuchProcedure] when no node has one), decodes the answer into
	// result, and passes partial results to progress when it is not nil.
	Call(ctx context.Context, procedure string, params, result any, progress func(rpc.Raw)) error
	// Subscribed: the first local subscriber of pattern.
	Subscribed(pattern string)
	// Unsubscribed: the last local subscriber of pattern left.
	Unsubscribed(pattern string)
	// Registered: the first local registrant of procedure, with the
	// policy it chose.
	Registered(procedure string, policy Policy)
	// Unregistered: the last local registrant of procedure left.
	Unregistered(procedure string)
}
