package websocket_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

const (
	slowRoleHeader = "X-Slow-Role"
	slowNormal     = 4        // clients that read
	slowPushers    = 8        // goroutines pushing to the client that does not
	slowPayload    = 32 << 10 // bytes per push to it
	slowQueue      = 1        // rpc.WithSendQueue on the server's peers: see TestSlowConsumerBoundedMemory
)

// slowRig is a server with one client that stops reading (a raw gorilla
// connection that upgrades and never reads) and slowNormal Parley clients
// that read; the server pushes notifications to all of them.
type slowRig struct {
	t      *testing.T
	ts     *testServer
	raw    *gorilla.Conn // the client that does not read
	slow   *rpc.Peer     // the server's peer for it
	normal []*rpc.Peer   // the server's peers for the others
	got    []atomic.Int64

	attempted  atomic.Int64 // bytes the pushers tried to send to the slow client
	toSlow     atomic.Int64 // pushes to it that went through
	timedOut   atomic.Int64 // pushes to it that gave up at their deadline
	lost       atomic.Int64 // pushes to it that failed with ErrConnectionLost
	unexpected atomic.Int64
	running    atomic.Int64 // pushers to the slow client still running
	atStall    []int64      // normal clients' deliveries when the stall began

	errMu    sync.Mutex
	firstErr error
}

func newSlowRig(t *testing.T, writeTimeout time.Duration) *slowRig {
	r := &slowRig{t: t, got: make([]atomic.Int64, slowNormal)}
	var mu sync.Mutex
	joined := make(chan struct{}, slowNormal+1)
	peers := make(map[string]*rpc.Peer)
	r.ts = startServer(t, &websocket.ServerOptions{
		WriteTimeout: writeTimeout,
		PingInterval: -1, // the write timeout alone decides
		PeerOptions:  []rpc.Option{rpc.WithSendQueue(slowQueue)},
		OnConnect: func(p *rpc.Peer, req *http.Request) {
			mu.Lock()
			peers[req.Header.Get(slowRoleHeader)] = p
			mu.Unlock()
			joined <- struct{}{}
		},
	})
	for i := range slowNormal {
		router := rpc.NewRouter()
		mustRegister(t, router, "tick", rpc.Func(func(context.Context, []int) (any, error) {
			r.got[i].Add(1)
			return nil, nil
		}))
		dial(t, r.ts.url, &websocket.DialOptions{
			Codec:   loadCodecs[i%len(loadCodecs)],
			Handler: router,
			Header:  http.Header{slowRoleHeader: {"normal-" + string(rune('0'+i))}},
		})
	}
	r.raw = slowDialRaw(t, r.ts.url)
	for range slowNormal + 1 {
		select {
		case <-joined:
		case <-time.After(10 * time.Second):
			t.Fatal("the clients did not all connect")
		}
	}
	r.slow = peers["slow"]
	for i := range slowNormal {
		r.normal = append(r.normal, peers["normal-"+string(rune('0'+i))])
	}
	return r
}

// slowDialRaw opens a WebSocket connection that is never read from, with
// a small socket receive buffer so that it fills up sooner. It asks for
// CBOR, in which the big byte strings pushed to it cost a copy to encode.
func slowDialRaw(t *testing.T, url string) *gorilla.Conn {
	t.Helper()
	d := gorilla.Dialer{
		Subprotocols:     []string{websocket.ProtocolCBOR},
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := new(net.Dialer).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4 << 10)
			}
			return c, err
		},
	}
	ws, _, err := d.Dial(url, http.Header{slowRoleHeader: {"slow"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// deliveries returns how many pushes each normal client has handled.
func (r *slowRig) deliveries() []int64 {
	n := make([]int64, slowNormal)
	for i := range n {
		n[i] = r.got[i].Load()
	}
	return n
}

// waitStall waits until a write to the slow client is stuck in the
// socket (or its peer has ended), and notes the other clients' deliveries
// at that point.
func (r *slowRig) waitStall() {
	r.t.Helper()
	slowWaitUntil(r.t, "a write to the client that does not read to get stuck", func() bool {
		select {
		case <-r.slow.Done():
			return true
		default:
		}
		return slowWriteStuck()
	})
	r.atStall = r.deliveries()
}

// slowWriteStuck reports whether a goroutine is blocked writing to a
// socket whose buffer is full.
func slowWriteStuck() bool {
	for _, g := range slowStacks() {
		if strings.Contains(g, "(*netConn).Write") && strings.Contains(g, "waitWrite") {
			return true
		}
	}
	return false
}

// push runs the pushers until stop closes: slowPushers goroutines push
// big notifications to the slow client, each giving up after a short
// deadline (a broadcaster that does not wait for laggards); one goroutine
// per normal client calls it again and again, one call at a time (a
// client that reads is never flooded, so that only the slow one is slow),
// with a deadline that must never pass. It returns a channel closed when
// every pusher has returned.
func (r *slowRig) push(stop <-chan struct{}) <-chan struct{} {
	big := [][]byte{make([]byte, slowPayload)}
	var wg sync.WaitGroup
	for range slowPushers {
		wg.Add(1)
		r.running.Add(1)
		go func() {
			defer wg.Done()
			defer r.running.Add(-1)
			for slowRunning(stop) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				err := r.slow.Notify(ctx, "tick", big)
				cancel()
				r.attempted.Add(slowPayload)
				switch {
				case err == nil:
					r.toSlow.Add(1)
				case errors.Is(err, context.DeadlineExceeded):
					r.timedOut.Add(1)
				case errors.Is(err, rpc.ErrConnectionLost):
					r.lost.Add(1)
					return // the link is gone; nothing more to try
				default:
					r.fail(err)
					return
				}
			}
		}()
	}
	for _, p := range r.normal {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for slowRunning(stop) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				err := p.Call(ctx, "tick", []int{1}, nil)
				cancel()
				if err != nil {
					r.fail(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

func (r *slowRig) fail(err error) {
	r.unexpected.Add(1)
	r.errMu.Lock()
	if r.firstErr == nil {
		r.firstErr = err
	}
	r.errMu.Unlock()
}

func slowRunning(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return false
	default:
		return true
	}
}

// slowWaitUntil polls cond until it holds; the bound catches a hang, it
// does not measure speed.
func slowWaitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	slowWaitState(t, what, func() string { return "" }, cond)
}

// slowWaitState is slowWaitUntil, saying what state describes on failure.
func slowWaitState(t *testing.T, what string, state func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s %s", what, state())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// slowLiveMetric is the heap the last garbage collection found live.
const slowLiveMetric = "/gc/heap/live:bytes"

// slowLive returns the live heap after two collections (the first one
// moves what sync.Pools hold aside, the second frees it).
func slowLive() uint64 {
	runtime.GC()
	runtime.GC()
	sample := []metrics.Sample{{Name: slowLiveMetric}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// TestSlowConsumerBoundedMemory: a client stops reading while the server
// pushes to it far more than it could buffer, with no write timeout to
// save it. The server does not queue for it: once a write to it is stuck,
// no push is accepted any more (with WithSendQueue(1), the write in
// progress is the only message handed to its connection); every other
// push gives up at its sender's deadline (context.DeadlineExceeded, the
// documented error). A queue of one also keeps the pushers clear of the
// adapter bug of TestSlowConsumerGiveUpWhileWriteStuck, which catches
// senders that give up inside the transport. So what the server holds for it, measured as the live heap once
// the pushers stop, stays under a bound while eight times the bound was
// pushed. Meanwhile every other client keeps receiving, and the stalled
// one is neither dropped nor able to slow them.
func TestSlowConsumerBoundedMemory(t *testing.T) {
	const (
		bound  = 8 << 20    // live heap the stalled client may cost, bytes
		target = 8 * bound  // bytes to push at it
		during = int64(100) // deliveries each other client must get during the stall
	)
	r := newSlowRig(t, -1) // no write timeout: only the queue bounds memory
	base := slowLive()

	stop := make(chan struct{})
	pushed := r.push(stop)
	r.waitStall()
	acceptedAtStall := r.toSlow.Load()
	// A call to the stalled client fails with the caller's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := r.slow.Call(ctx, "anything", []int{1}, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a call to the stalled client: %v, want context.DeadlineExceeded", err)
	}
	slowWaitState(t, "the pushes to pile up and the other clients to keep receiving", func() string {
		var stuck []string
		for _, g := range slowStacks() {
			if strings.Contains(g, "parley/adapters/websocket.") && strings.Contains(g, "_test.") {
				stuck = append(stuck, g)
			}
		}
		return fmt.Sprintf("(%d MiB pushed, deliveries %v since the stall %v); stacks:\n%s",
			r.attempted.Load()>>20, r.deliveries(), r.atStall, strings.Join(stuck, "\n\n"))
	}, func() bool {
		if r.attempted.Load() < target || r.unexpected.Load() > 0 {
			return r.unexpected.Load() > 0
		}
		for i, n := range r.deliveries() {
			if n-r.atStall[i] < during {
				return false
			}
		}
		return true
	})
	now := r.deliveries()
	accepted := r.toSlow.Load() - acceptedAtStall

	// Stop pushing, but leave the client stalled: every pusher returns
	// except the one whose write is stuck. What is live then is what the
	// server holds for the stalled client.
	close(stop)
	slowWaitUntil(t, "the pushers to stop", func() bool {
		stuck := 0
		for _, g := range slowStacks() {
			if strings.Contains(g, "slowRig).push.func1") && strings.Contains(g, "(*netConn).") {
				stuck++
			}
		}
		return r.running.Load() <= int64(stuck)
	})
	held := int64(slowLive()) - int64(base)
	if r.slow.Err() != nil {
		t.Errorf("the stalled client was dropped without a write timeout: %v", r.slow.Err())
	}
	if accepted > slowQueue {
		t.Errorf("%d pushes were accepted for a client whose connection was stuck; the queue holds %d", accepted, slowQueue)
	}
	if held > bound {
		t.Errorf("%d MiB are held for a client that does not read, after %d MiB were pushed at it; bound %d MiB",
			held>>20, r.attempted.Load()>>20, bound>>20)
	}
	t.Logf("stalled client: %d MiB pushed at it; %d pushes went through before it stalled, %d after, %d gave up at their deadline; "+
		"live heap %.1f MiB before, %.1f MiB more after (bound %d MiB); other clients received %v during the stall",
		r.attempted.Load()>>20, acceptedAtStall, accepted, r.timedOut.Load(), slowMiB(base), float64(held)/(1<<20),
		bound>>20, slowSub(now, r.atStall))

	// With no write timeout, the write in progress waits for the client
	// for ever: until it goes away. Then that write fails, the peer ends,
	// and every sender returns.
	_ = r.raw.Close()
	select {
	case <-r.slow.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the server peer of the closed client did not end")
	}
	if err := r.slow.Err(); !errors.Is(err, rpc.ErrConnectionLost) {
		t.Errorf("server peer: %v", err)
	}
	select {
	case <-pushed:
	case <-time.After(30 * time.Second):
		t.Fatal("a pusher is stuck")
	}
	if r.unexpected.Load() > 0 {
		t.Fatalf("unexpected push error: %v", r.firstErr)
	}
}

// TestSlowConsumerDropped: the slow-consumer policy. A client stops
// reading; once a write to it makes no progress for the write timeout,
// the server drops it: its peer ends with ErrWriteTimeout (and
// ErrConnectionLost), a call in flight to it ends with ErrConnectionLost,
// pushes waiting for its connection end with their deadline or
// ErrConnectionLost, nothing else. Every other client keeps receiving
// during the stall and after the drop, without a single error.
func TestSlowConsumerDropped(t *testing.T) {
	r := newSlowRig(t, 2*time.Second)
	stop := make(chan struct{})
	pushed := r.push(stop)
	defer func() {
		close(stop)
		select {
		case <-pushed:
		case <-time.After(30 * time.Second):
			t.Error("a pusher is stuck")
		}
	}()
	// A call waiting on the stalled link, with all the time in the world.
	call := make(chan error, 1)
	go func() { call <- r.slow.Call(context.Background(), "anything", []int{1}, nil) }()

	r.waitStall()
	select {
	case <-r.slow.Done():
	case <-time.After(60 * time.Second):
		t.Fatal("the client that does not read was never dropped")
	}
	atDrop := r.deliveries()
	if err := r.slow.Err(); !errors.Is(err, websocket.ErrWriteTimeout) || !errors.Is(err, rpc.ErrConnectionLost) {
		t.Errorf("server peer of the stalled client: %v, want ErrWriteTimeout", err)
	}
	select {
	case err := <-call:
		if !errors.Is(err, rpc.ErrConnectionLost) {
			t.Errorf("call in flight to the dropped client: %v, want ErrConnectionLost", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a call to the dropped client never returned")
	}
	during := slowSub(atDrop, r.atStall)
	for i, n := range during {
		if n == 0 {
			t.Errorf("client %d received nothing while the slow one stalled the server", i)
		}
	}
	// The others go on after the drop.
	slowWaitUntil(t, "the other clients to keep receiving after the drop", func() bool {
		for i, n := range r.deliveries() {
			if n-atDrop[i] < 50 && r.unexpected.Load() == 0 {
				return false
			}
		}
		return true
	})
	if r.unexpected.Load() > 0 {
		t.Fatalf("unexpected push error: %v", r.firstErr)
	}
	slowWaitUntil(t, "the server to forget the dropped connection", func() bool { return r.ts.Len() == slowNormal })
	for i, p := range r.normal {
		if p.Err() != nil {
			t.Errorf("normal client %d: %v", i, p.Err())
		}
	}
	t.Logf("stalled client dropped with %q; pushes to it: %d went through, %d gave up at their deadline, %d failed with connection lost; "+
		"other clients received %v during the stall", r.slow.Err(), r.toSlow.Load(), r.timedOut.Load(), r.lost.Load(), during)
}

func slowMiB(n uint64) float64 { return float64(n) / (1 << 20) }

// slowSub returns a - b, element by element.
func slowSub(a, b []int64) []int64 {
	d := make([]int64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

// slowStuck connects a raw client that never reads to a server with the
// given write timeout, and pushes big notifications at it until a write
// is stuck in the socket. It returns the server's peer for that client;
// the push goroutine ends when the connection does.
func slowStuck(t *testing.T, writeTimeout time.Duration) (*rpc.Peer, *gorilla.Conn) {
	t.Helper()
	var peers rpc.PeerSet
	ts := startServer(t, &websocket.ServerOptions{Peers: &peers, WriteTimeout: writeTimeout, PingInterval: -1})
	raw := slowDialRaw(t, ts.url)
	server := onlyPeer(t, &peers)
	big := [][]byte{make([]byte, 1<<20)}
	go func() {
		for server.Notify(context.Background(), "push", big) == nil {
		}
	}()
	slowWaitUntil(t, "a write to get stuck", slowWriteStuck)
	return server, raw
}

// slowStacks returns the stacks of all goroutines.
func slowStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestSlowConsumerGiveUpWhileWriteStuck: while one write is stuck on a
// client that does not read, another sender that gives up waiting for
// the write lock returns at its own deadline, as the package documents
// ("waiting for another write to finish ends with the caller's
// context"), rather than when the stuck write ends (here: never, as the
// write timeout is off).
func TestSlowConsumerGiveUpWhileWriteStuck(t *testing.T) {
	server, raw := slowStuck(t, -1)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		done <- server.Notify(ctx, "small", []int{1})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("send behind a stuck write: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("a send whose deadline passed 10s ago has not returned: it waits on the stuck write")
		_ = raw.Close() // lets the stuck write fail, and the send return
		<-done
	}
}

// TestSlowConsumerCloseWhileWriteStuck: closing the server's peer of a
// client that stopped reading returns promptly (Close does not wait for
// the other end), whatever the write timeout, even while a write to that
// client is stuck.
func TestSlowConsumerCloseWhileWriteStuck(t *testing.T) {
	for _, wt := range []time.Duration{-1, time.Minute} {
		t.Run("WriteTimeout="+wt.String(), func(t *testing.T) {
			server, raw := slowStuck(t, wt)
			closed := make(chan struct{})
			go func() { _ = server.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Errorf("Close has not returned after 10s: it waits on the stuck write")
				for _, g := range slowStacks() {
					if strings.Contains(g, "(*conn).Close") {
						t.Log(g)
					}
				}
			}
			_ = raw.Close()
			<-closed
		})
	}
}
