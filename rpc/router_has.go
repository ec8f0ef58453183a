package rpc

// Has reports whether a handler is registered for method. Adapters that
// map a transport's own named messages onto calls (the Socket.IO 4
// adapter's events) use it to serve only the names the router knows and
// leave every other name to the application.
func (r *Router) Has(method string) bool {
	m := r.methods.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[method]
	return ok
}
