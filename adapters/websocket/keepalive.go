package websocket

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// keepalive detects a dead link with pings, on a timer rather than a
// goroutine of its own. Each tick sends a ping and checks whether anything
// (a message, a pong, a ping) was read since the tick before; after two
// silent ticks in a row the link is dropped. Silence while the peer holds
// a message (the read loop is paused for backpressure) does not count.
type keepalive struct {
	interval time.Duration
	seen     atomic.Bool  // something was read since the last tick
	busy     atomic.Bool  // the peer holds a message: nothing is being read
	missed   atomic.Int32 // silent ticks in a row

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// maxMissed is how many silent ticks in a row end the link.
const maxMissed = 2

func (t *conn) startKeepalive() {
	k := &t.ka
	if k.interval <= 0 {
		return
	}
	k.mu.Lock()
	if !k.stopped {
		k.timer = time.AfterFunc(k.interval, t.tick)
	}
	k.mu.Unlock()
}

func (t *conn) stopKeepalive() {
	k := &t.ka
	k.mu.Lock()
	k.stopped = true
	if k.timer != nil {
		k.timer.Stop()
	}
	k.mu.Unlock()
}

// tick runs on the timer's goroutine, one at a time: the timer is re-armed
// only at its end.
func (t *conn) tick() {
	select {
	case <-t.done:
		return
	default:
	}
	k := &t.ka
	if k.busy.Load() || k.seen.Swap(false) {
		k.missed.Store(0)
	} else if k.missed.Add(1) >= maxMissed {
		t.end(fmt.Errorf("%w (nothing read for %d ping intervals of %v)", ErrKeepaliveTimeout, maxMissed, k.interval), true)
		return
	}
	// A ping that cannot be written within an interval is pointless; a
	// failed ping needs no handling here, as silence ends the link.
	_ = t.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(k.interval))
	k.mu.Lock()
	if !k.stopped {
		k.timer.Reset(k.interval)
	}
	k.mu.Unlock()
}
