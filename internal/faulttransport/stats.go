package faulttransport

// Stats counts what went through a [Transport] and which faults it
// injected.
type Stats struct {
	// Out counts outbound messages (Send), In inbound ones.
	Out, In Counts
	// Injected lists the faults that fired, in the order they fired.
	Injected []Injection
}

// Counts is one direction's traffic.
type Counts struct {
	// Messages is how many messages reached the transport in this
	// direction: Sends called, or messages the inner transport delivered.
	Messages int
	// Passed is how many were passed on (sent to the inner transport, or
	// delivered to the peer); a duplicated message counts twice, a dropped
	// or lost one not at all.
	Passed int
	// Bytes is the size of what was passed on.
	Bytes int64
}

// Injection is one fault that fired.
type Injection struct {
	Fault Fault
	// Msg is a copy of the message the fault hit, as it was before.
	Msg []byte
}

// Stats returns a snapshot of the counts and of the faults injected so
// far.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats
	s.Injected = append([]Injection(nil), s.Injected...)
	return s
}
