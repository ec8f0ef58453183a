package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gorilla "github.com/gorilla/websocket"

	"github.com/parleyrpc/parley/adapters/websocket"
	"github.com/parleyrpc/parley/rpc"
)

// dialAttempts bounds the tries per connection: under a burst of dials
// the listen backlog can overflow and a handshake be reset or time out.
const dialAttempts = 8

// dialMany runs dial(i) for i in [0, n), at most dialers at once, trying
// each up to dialAttempts times with a growing pause.
func dialMany(n, dialers int, dial func(ctx context.Context, i int) error) error {
	if dialers < 1 {
		dialers = 32
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	slots := make(chan struct{}, dialers)
	for i := range n {
		slots <- struct{}{}
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			var err error
			pause := 20 * time.Millisecond
			for range dialAttempts {
				ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
				err = dial(ctx, i)
				cancel()
				if err == nil {
					return
				}
				time.Sleep(pause)
				pause *= 2
			}
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("bench: connection %d: %w", i, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return first
}

// clientSet is the client ends of many connections.
type clientSet interface {
	// dial opens connection i and makes one call on it.
	dial(ctx context.Context, url string, i int) error
	// close closes every connection.
	close() error
}

func newClientSet(lib string, n int) (clientSet, error) {
	switch lib {
	case "parley":
		return &parleyClients{peers: make([]*rpc.Peer, n)}, nil
	case "raw":
		return &rawClients{conns: make([]*rawClient, n)}, nil
	}
	return nil, fmt.Errorf("bench: no client set for %q", lib)
}

// parleyClients are Parley peers dialed with the defaults, each serving
// "add" for the server's calls.
type parleyClients struct {
	peers []*rpc.Peer
}

var sharedRouter = addRouter(false)

func (s *parleyClients) dial(ctx context.Context, url string, i int) error {
	p, err := websocket.Dial(ctx, url, &websocket.DialOptions{Handler: sharedRouter})
	if err != nil {
		return err
	}
	var got int
	err = p.Call(ctx, "add", [2]int{1, 2}, &got)
	if err = check(got, err); err != nil {
		_ = p.Close()
		return err
	}
	s.peers[i] = p
	return nil
}

func (s *parleyClients) close() error {
	return closeParallel(len(s.peers), func(i int) error {
		if p := s.peers[i]; p != nil {
			return p.Close()
		}
		return nil
	})
}

// rawClients are plain gorilla connections, each with a reader goroutine
// as a gorilla client that can be spoken to at any time has.
type rawClients struct {
	conns []*rawClient
}

type rawClient struct {
	ws      *gorilla.Conn
	answers chan error // the reader's report of each message read
	done    chan struct{}
}

func (s *rawClients) dial(ctx context.Context, url string, i int) error {
	ws, _, err := (&gorilla.Dialer{HandshakeTimeout: setupTimeout}).DialContext(ctx, url, nil)
	if err != nil {
		return err
	}
	c := &rawClient{ws: ws, answers: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			_, msg, err := ws.ReadMessage()
			if err == nil && len(msg) != len(answer) {
				err = errBadAnswer
			}
			select {
			case c.answers <- err:
			default: // nobody waits: drop it
			}
			if err != nil {
				return
			}
		}
	}()
	if err := ws.WriteMessage(gorilla.TextMessage, request); err != nil {
		_ = ws.Close()
		<-c.done
		return err
	}
	select {
	case err = <-c.answers:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = ws.Close()
		<-c.done
		return err
	}
	s.conns[i] = c
	return nil
}

func (s *rawClients) close() error {
	return closeParallel(len(s.conns), func(i int) error {
		c := s.conns[i]
		if c == nil {
			return nil
		}
		err := c.ws.Close()
		<-c.done
		return err
	})
}

// closeParallel runs closeOne(i) for i in [0, n) from a few goroutines:
// a Parley Close waits for its read loop, and 10,000 of them one after
// the other would take a while.
func closeParallel(n int, closeOne func(i int) error) error {
	const workers = 64
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := closeOne(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
