package faulttransport

import (
	"errors"
	"fmt"
	"time"
)

// Direction says which way a message travels, seen from the wrapped end.
type Direction int

const (
	// Outbound messages are those the peer sends ([Transport.Send]).
	Outbound Direction = iota
	// Inbound messages are those the inner transport delivers to the peer.
	Inbound
)

func (d Direction) String() string {
	switch d {
	case Outbound:
		return "outbound"
	case Inbound:
		return "inbound"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// Kind is what a fault does to the message it is aimed at.
type Kind int

const (
	// Drop ends the link instead of passing the message on: the inner
	// transport is closed, the peer's OnClose reports [ErrDropped], and an
	// outbound Send returns an error wrapping it.
	Drop Kind = iota + 1
	// Delay holds the message for [Fault.Delay] before passing it on. An
	// outbound message is held in Send (which honours its context); an
	// inbound one holds up the messages behind it, as a slow network would.
	Delay
	// Stall stops the direction from this message on, until
	// [Transport.Unstall] or the end of the link: outbound Sends wait (each
	// up to its context's end), inbound messages are not delivered (the
	// peer stops receiving, and the inner transport stops reading).
	Stall
	// Truncate passes on only the first [Fault.Keep] bytes of the message
	// (half of it when Keep is 0; at least one byte is always cut).
	Truncate
	// Corrupt flips every bit of the byte at [Fault.Offset] (the last byte
	// when Offset is past the end). At offset 0, the default, neither
	// Parley codec can parse the result.
	Corrupt
	// Mutate passes on what [Fault.Mutate] returns for a copy of the
	// message: a precise, chosen corruption.
	Mutate
	// Duplicate passes the message on twice.
	Duplicate
	// Reorder swaps the message with the next one in the same direction:
	// it is held back until the next message has passed, or until the
	// plan's ReorderWindow has passed if no other message comes. An
	// outbound one is held as in a transport's own buffer: Send returns
	// at once. A message still held when the link ends is lost with it.
	Reorder
)

func (k Kind) String() string {
	switch k {
	case Drop:
		return "drop"
	case Delay:
		return "delay"
	case Stall:
		return "stall"
	case Truncate:
		return "truncate"
	case Corrupt:
		return "corrupt"
	case Mutate:
		return "mutate"
	case Duplicate:
		return "duplicate"
	case Reorder:
		return "reorder"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Kinds lists every fault kind, for tables of tests.
func Kinds() []Kind {
	return []Kind{Drop, Delay, Stall, Truncate, Corrupt, Mutate, Duplicate, Reorder}
}

// Fault is one scripted fault.
type Fault struct {
	// Dir and At name the message: the At-th (from 1) in direction Dir.
	Dir  Direction
	At   int
	Kind Kind

	// Delay is how long a Delay fault holds the message; it must be
	// positive for that kind.
	Delay time.Duration
	// Keep is how many bytes a Truncate fault keeps (0: half).
	Keep int
	// Offset is the byte a Corrupt fault flips.
	Offset int
	// Mutate turns a copy of the message into what a Mutate fault passes
	// on; it may modify and return its argument.
	Mutate func(msg []byte) []byte
}

func (f Fault) String() string {
	s := fmt.Sprintf("%s %s #%d", f.Kind, f.Dir, f.At)
	switch f.Kind {
	case Delay:
		s += " by " + f.Delay.String()
	case Truncate:
		if f.Keep > 0 {
			s += fmt.Sprintf(" to %d bytes", f.Keep)
		}
	case Corrupt:
		if f.Offset > 0 {
			s += fmt.Sprintf(" at byte %d", f.Offset)
		}
	}
	return s
}

// DefaultReorderWindow is how long a Reorder fault waits for the next
// message when [Plan.ReorderWindow] is zero.
const DefaultReorderWindow = 20 * time.Millisecond

// Plan scripts a [Transport]'s faults. The zero Plan passes everything
// through unchanged, and still counts it.
type Plan struct {
	// Faults are the scripted faults; at most one per message.
	Faults []Fault
	// SendDelay and RecvDelay delay every outbound and inbound message:
	// latency for the whole link.
	SendDelay, RecvDelay time.Duration
	// ReorderWindow bounds how long a Reorder fault holds its message
	// waiting for the next one (0: DefaultReorderWindow).
	ReorderWindow time.Duration
}

// check validates the plan and indexes its faults by message.
func (p Plan) check() (out, in map[int]Fault, err error) {
	if p.SendDelay < 0 || p.RecvDelay < 0 || p.ReorderWindow < 0 {
		return nil, nil, errors.New("faulttransport: negative delay in plan")
	}
	out, in = make(map[int]Fault), make(map[int]Fault)
	for _, f := range p.Faults {
		var m map[int]Fault
		switch f.Dir {
		case Outbound:
			m = out
		case Inbound:
			m = in
		default:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: unknown direction", f)
		}
		switch {
		case f.At < 1:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: At counts from 1", f)
		case f.Kind < Drop || f.Kind > Reorder:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: unknown kind", f)
		case f.Kind == Delay && f.Delay <= 0:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: Delay must be positive", f)
		case f.Kind == Mutate && f.Mutate == nil:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: Mutate is nil", f)
		case f.Keep < 0 || f.Offset < 0:
			return nil, nil, fmt.Errorf("faulttransport: fault %v: negative Keep or Offset", f)
		}
		if _, dup := m[f.At]; dup {
			return nil, nil, fmt.Errorf("faulttransport: two faults at %s message %d", f.Dir, f.At)
		}
		m[f.At] = f
	}
	return out, in, nil
}

// truncate returns msg cut as f says. It does not modify msg.
func truncate(msg []byte, keep int) []byte {
	if keep <= 0 {
		keep = len(msg) / 2
	}
	if keep >= len(msg) {
		keep = max(0, len(msg)-1)
	}
	return msg[:keep]
}

// corrupt flips the byte at off (clamped) in a copy of msg.
func corrupt(msg []byte, off int) []byte {
	c := clone(msg)
	if len(c) == 0 {
		return c
	}
	c[min(off, len(c)-1)] ^= 0xFF
	return c
}

func clone(msg []byte) []byte { return append(make([]byte, 0, len(msg)), msg...) }
