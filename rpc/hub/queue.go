package hub

import "sync"

// eventQueue holds the events waiting to be written to one subscriber,
// and writes them, in order, on a goroutine that exists only while there
// are some. A publisher only appends: it never waits for the link, so a
// subscriber that stopped reading holds up nobody but itself; its queue
// is bounded (Options.MaxQueuedEvents), and what does not fit is dropped.
type eventQueue struct {
	h *Hub
	m *member

	mu      sync.Mutex
	buf     []any // events from head on wait: rpc.Raw values, each boxed once per publish
	head    int
	running bool // a writer goroutine is at work
	closed  bool // the member left, or the hub closed
	closing bool // CloseSlowSubscribers is closing its peer
}

func (q *eventQueue) init(h *Hub, m *member) { q.h, q.m = h, m }

// push queues an event, an rpc.Raw in an interface that every subscriber
// of one codec shares (boxing it once per subscriber would cost an
// allocation each), and reports whether it was queued.
func (q *eventQueue) push(ev any) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if len(q.buf)-q.head >= q.h.opts.MaxQueuedEvents {
		closeIt := q.h.opts.CloseSlowSubscribers && !q.closing
		q.closing = q.closing || closeIt
		q.mu.Unlock()
		q.h.dropped.Add(1)
		if closeIt {
			go q.m.peer.Close() // not here: Close waits for the peer's reading, which may be publishing
		}
		return false
	}
	if q.head > 0 && q.head >= len(q.buf)/2 {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	start := !q.running
	if start && !q.h.startWriter() {
		q.closed = true // the hub is closing: nothing would write it
		q.mu.Unlock()
		return false
	}
	q.buf = append(q.buf, ev)
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
	}
	return true
}

// startWriter counts a new event writer in h.wg, unless Close is
// already waiting for them.
func (h *Hub) startWriter() bool {
	h.writersMu.Lock()
	defer h.writersMu.Unlock()
	if h.writersDone {
		return false
	}
	h.wg.Add(1)
	return true
}

// run writes the queued events until none is left.
func (q *eventQueue) run() {
	defer q.h.wg.Done()
	for {
		q.mu.Lock()
		if q.closed || q.head == len(q.buf) {
			q.running = false
			clear(q.buf)
			if cap(q.buf) > 64 {
				q.buf = nil // let a burst's memory go
			} else {
				q.buf = q.buf[:0]
			}
			q.head = 0
			q.mu.Unlock()
			return
		}
		ev := q.buf[q.head]
		q.buf[q.head] = nil
		q.head++
		q.mu.Unlock()
		if err := q.m.peer.Notify(q.h.ctx, EventMethod, ev); err != nil {
			// The peer is ending (it leaves every topic as it does) or
			// the hub closed: what is queued can go nowhere.
			q.discard()
		}
	}
}

// discard drops the queued events and refuses more.
func (q *eventQueue) discard() {
	q.mu.Lock()
	q.closed = true
	clear(q.buf)
	q.buf, q.head = nil, 0
	q.mu.Unlock()
}

// len returns the number of events waiting.
func (q *eventQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.buf) - q.head
}
