package rpc

import (
	"context"
	"slices"
	"sync"
)

// callCtx is the context of a call's handler: it ends when the peer ends
// (its parent, the peer's context, does) or when the call is cancelled
// ($/cancelRequest, or the handler's return).
//
// context.WithCancel would do, but it allocates twice and registers every
// call with the peer's context, a lock and a map entry each, though most
// handlers never look at their context's end. A callCtx comes in one
// allocation with the call's Request, and registers with the peer's
// context only when asked for its Done channel. Contexts derived from it
// register through its AfterFunc method, with no goroutine of their own.
type callCtx struct {
	context.Context // the parent: values, deadline (none) and end

	mu    sync.Mutex
	done  chan struct{} // made when first asked for; closed when the call ends
	err   error         // why the call ended; nil until then
	stop  func() bool   // takes back the registration with the parent
	funcs []*func()     // AfterFunc's, to run when the call ends
}

// servedCall is a call being served: its Request and its handler's context,
// allocated together.
type servedCall struct {
	req Request
	ctx callCtx
	b   *inBatch // the batch it came in, if any
}

// run serves the call on a worker (see goServe).
func (c *servedCall) run() { c.req.peer.serve(c, c.b) }

// Done returns a channel closed when the call ends.
func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			parent := c.Context
			c.stop = context.AfterFunc(parent, func() { c.cancel(parent.Err()) })
		}
	}
	return c.done
}

// Err returns nil until the call ends, and then why: context.Canceled.
func (c *callCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err == nil {
		// The peer's end may not have reached us yet; once Err says the
		// call ended, Done must be closed.
		if err = c.Context.Err(); err != nil {
			c.cancel(err)
		}
	}
	return err
}

// cancel ends the call with err, if it has not ended yet.
func (c *callCtx) cancel(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	stop, funcs := c.stop, c.funcs
	c.stop, c.funcs = nil, nil
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	for _, f := range funcs {
		go (*f)()
	}
}

// AfterFunc arranges for f to run on its own goroutine once the call ends,
// as context.AfterFunc does; context.WithCancel and the like use it for
// the contexts they derive from this one.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	c.Done() // the peer's end must reach f too
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	fp := &f
	c.funcs = append(c.funcs, fp)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		i := slices.Index(c.funcs, fp)
		if i < 0 {
			return false // run, or about to
		}
		c.funcs = slices.Delete(c.funcs, i, i+1)
		return true
	}
}

// String names the context, as context's own types do.
func (c *callCtx) String() string { return "rpc call context" }
