package hostile_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyrpc/parley/codec"
	"github.com/parleyrpc/parley/codec/cbor"
	"github.com/parleyrpc/parley/codec/json"
	"github.com/parleyrpc/parley/internal/hostile"
	"github.com/parleyrpc/parley/internal/leakcheck"
	"github.com/parleyrpc/parley/rpc"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// pipeConn is the raw end of an rpc.Pipe whose other end has a peer.
type pipeConn struct {
	t    rpc.Transport
	msgs chan []byte
	done chan struct{}
	quit chan struct{}
	err  error
}

func (c *pipeConn) OnMessage(msg []byte) {
	select {
	case c.msgs <- msg:
	case <-c.quit: // closed: nobody reads any more
	}
}
func (c *pipeConn) OnClose(err error)   { c.err = err; close(c.done) }
func (c *pipeConn) MaxMessageSize() int { return 64 << 20 }

// pipeTarget serves the Service over rpc.Pipe: the peer itself, with no
// transport limits in the way.
func pipeTarget(t *testing.T, c codec.Codec) hostile.Target {
	svc := hostile.NewService()
	return hostile.Target{
		Codec:   c,
		Service: svc,
		// The full flood even under the race detector: over a pipe it
		// takes a few seconds.
		CancelFlood: 100_000,
		Dial: func(context.Context) (hostile.Conn, error) {
			a, b := rpc.Pipe()
			p, err := rpc.NewPeer(a, append(svc.PeerOptions(), rpc.WithCodec(c))...)
			if err != nil {
				return nil, err
			}
			pc := &pipeConn{t: b, msgs: make(chan []byte), done: make(chan struct{}), quit: make(chan struct{})}
			b.Start(pc)
			read := func() ([]byte, error) {
				select {
				case m := <-pc.msgs:
					return m, nil
				case <-pc.done:
					return nil, pc.err
				}
			}
			write := func(m []byte) error { return b.Send(context.Background(), m) }
			closer := func() error {
				close(pc.quit)
				_ = b.Close()
				_ = p.Close()
				return nil
			}
			return hostile.NewConn(read, write, closer), nil
		},
	}
}

func TestPipeJSON(t *testing.T) { hostile.Run(t, pipeTarget(t, json.Codec{})) }

func TestPipeCBOR(t *testing.T) { hostile.Run(t, pipeTarget(t, cbor.Codec{})) }

// The corpus for each codec, counted by the outcome each case must have.
func ExampleCorpus() {
	for _, c := range []codec.Codec{json.Codec{}, cbor.Codec{}} {
		kinds := map[hostile.Kind]int{}
		cases := hostile.Corpus(c)
		for _, cs := range cases {
			kinds[cs.Want.Kind]++
		}
		fmt.Printf("%s: %d cases: %d answers, %d batch answers, %d with no answer, %d oversize\n", c.Name(), len(cases),
			kinds[hostile.Answer], kinds[hostile.BatchAnswer], kinds[hostile.NoAnswer], kinds[hostile.Oversize])
	}
	// Output:
	// json: 103 cases: 83 answers, 6 batch answers, 13 with no answer, 1 oversize
	// cbor: 115 cases: 95 answers, 6 batch answers, 13 with no answer, 1 oversize
}
