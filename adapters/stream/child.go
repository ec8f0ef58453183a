package stream

import (
	"errors"
	"os"
	"os/exec"
	"time"

	"github.com/parleyrpc/parley/rpc"
)

// DefaultExitDelay is how long [Child.Close] waits for the process to exit
// after closing its standard input, when cmd.WaitDelay is zero.
const DefaultExitDelay = 5 * time.Second

// Child is a child process spoken to over its standard input and output:
// a language server an editor starts, an MCP server, any tool that serves
// JSON-RPC over stdio. Create one with [Start].
type Child struct {
	peer  *rpc.Peer
	cmd   *exec.Cmd
	delay time.Duration
	done  chan struct{} // closed when the process has exited
	err   error         // cmd.Wait's, set before done is closed
}

// Start starts cmd and a peer over its standard input and output, with
// opts as [NewPeer] takes them. cmd must not have started, and its Stdin
// and Stdout must be nil: the peer owns them. Its Stderr is the caller's
// to set (the child's logs, say; nil discards them).
//
// When the process exits, its output ends and so does the peer; when the
// peer is closed ([Child.Close]), the child's input ends, which is how a
// well-behaved stdio server learns to exit.
func Start(cmd *exec.Cmd, opts *Options) (*Child, error) {
	if cmd == nil {
		return nil, errors.New("stream: Start: nil command")
	}
	if cmd.Stdin != nil || cmd.Stdout != nil {
		return nil, errors.New("stream: Start: cmd.Stdin and cmd.Stdout must be nil: the peer speaks over them")
	}
	l, err := opts.check()
	if err != nil {
		return nil, err
	}
	// Pipes of our own rather than cmd's: os.Pipe's ends can be given
	// write deadlines and can be closed under a blocked read or write.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	inR.Close() // the child's ends: it has its own copies now
	outW.Close()
	if err != nil {
		cmd.Stdin, cmd.Stdout = nil, nil
		inW.Close()
		outR.Close()
		return nil, err
	}
	c := &Child{cmd: cmd, delay: cmd.WaitDelay, done: make(chan struct{})}
	if c.delay <= 0 {
		c.delay = DefaultExitDelay
	}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	t := newTransport(&pipes{r: outR, w: inW}, l.framing, l.codec, l.timeout)
	p, err := rpc.NewPeer(t, l.opts...) // the options were checked: not expected to fail
	if err != nil {
		_ = t.Close()
		_ = cmd.Process.Kill()
		<-c.done
		return nil, err
	}
	c.peer = p
	return c, nil
}

// Peer returns the peer that speaks to the child.
func (c *Child) Peer() *rpc.Peer { return c.peer }

// Process returns the child's process.
func (c *Child) Process() *os.Process { return c.cmd.Process }

// Done returns a channel closed when the process has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Wait waits for the process to exit and returns what cmd.Wait said: nil
// for a clean exit, an *exec.ExitError otherwise. It does not close the
// peer: the process's exit ends it.
func (c *Child) Wait() error {
	<-c.done
	return c.err
}

// Close closes the peer, which ends the child's input, then waits for the
// process to exit; if it has not after cmd.WaitDelay ([DefaultExitDelay]
// when zero), it is killed. It returns what [Child.Wait] returns. It is
// idempotent.
func (c *Child) Close() error {
	_ = c.peer.Close()
	timer := time.NewTimer(c.delay)
	defer timer.Stop()
	select {
	case <-c.done:
	case <-timer.C:
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	return c.err
}

// pipes is a child's output and input as one stream.
type pipes struct{ r, w *os.File }

func (p *pipes) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipes) Write(b []byte) (int, error) { return p.w.Write(b) }

// SetWriteDeadline bounds writes to the child's input.
func (p *pipes) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// Close closes both pipes, which ends a read or write in progress.
func (p *pipes) Close() error {
	werr := p.w.Close()
	rerr := p.r.Close()
	return errors.Join(werr, rerr)
}
