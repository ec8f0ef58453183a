// Package extest runs the example programs inside their tests: each
// example's server part is a function that prints to an io.Writer and
// stops when its context ends, and a test starts it, waits for the lines it
// prints, and stops it.
package extest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Output is an io.Writer that collects what a program prints, line by
// line, and lets a test wait for a line. It is safe for concurrent use.
type Output struct {
	mu      sync.Mutex
	partial []byte        // the unfinished last line
	lines   []string      // finished lines
	changed chan struct{} // closed and replaced whenever a line is added
	tee     func(string)  // if set, gets each finished line (t.Log)
}

var _ io.Writer = (*Output)(nil)

// NewOutput returns an empty Output. If tee is not nil, it is called with
// each line as it is printed (pass t.Log to see the program's output in
// the test's log).
func NewOutput(tee func(args ...any)) *Output {
	o := &Output{changed: make(chan struct{})}
	if tee != nil {
		o.tee = func(s string) { tee(s) }
	}
	return o
}

// Write records p. Lines end at '\n'; a last line without one is kept
// until the rest of it arrives.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.partial = append(o.partial, p...)
	var added []string
	for {
		i := bytes.IndexByte(o.partial, '\n')
		if i < 0 {
			break
		}
		added = append(added, string(o.partial[:i]))
		o.partial = o.partial[i+1:]
	}
	if len(added) > 0 {
		o.lines = append(o.lines, added...)
		close(o.changed)
		o.changed = make(chan struct{})
	}
	tee := o.tee
	o.mu.Unlock()
	if tee != nil {
		for _, l := range added {
			tee(l)
		}
	}
	return len(p), nil
}

// Lines returns the finished lines printed so far.
func (o *Output) Lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.lines...)
}

// String returns everything printed so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n") + "\n" + string(o.partial)
}

// Len returns the number of finished lines, a mark for [Output.WaitAfter].
func (o *Output) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines)
}

// Wait returns the first line containing substr, waiting for it until ctx
// ends.
func (o *Output) Wait(ctx context.Context, substr string) (string, error) {
	_, line, err := o.WaitAfter(ctx, 0, substr)
	return line, err
}

// WaitAfter returns the first line at index mark or later that contains
// substr, and its index, waiting for it until ctx ends.
func (o *Output) WaitAfter(ctx context.Context, mark int, substr string) (int, string, error) {
	return o.WaitFunc(ctx, mark, func(l string) bool { return strings.Contains(l, substr) })
}

// WaitFunc returns the first line at index mark or later for which match
// is true, and its index, waiting for it until ctx ends.
func (o *Output) WaitFunc(ctx context.Context, mark int, match func(string) bool) (int, string, error) {
	for {
		o.mu.Lock()
		for i := mark; i < len(o.lines); i++ {
			if match(o.lines[i]) {
				l := o.lines[i]
				o.mu.Unlock()
				return i, l, nil
			}
		}
		mark = max(mark, len(o.lines))
		changed := o.changed
		o.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return -1, "", fmt.Errorf("waiting for a line: %w; printed so far:\n%s", ctx.Err(), o.String())
		}
	}
}

// Program is an example's server part running in the test's process.
type Program struct {
	// Out is what the program printed.
	Out *Output
	// URL is the first http:// URL the program printed: where it listens.
	URL string

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

var urlPattern = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// Start runs run in a goroutine with an Output (that also logs to t) and
// waits, up to ten seconds, for it to print the URL it listens on. The
// program is stopped when the test ends; t fails if run then returns an
// error other than the context's.
func Start(t testing.TB, run func(ctx context.Context, out io.Writer) error) *Program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Program{Out: NewOutput(t.Log), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.err = run(ctx, p.Out)
	}()
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("the program ended with: %v", err)
		}
	})

	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	go func() { // an early return of run ends the wait too
		select {
		case <-p.done:
			wcancel()
		case <-wctx.Done():
		}
	}()
	_, line, err := p.Out.WaitFunc(wctx, 0, urlPattern.MatchString)
	if err != nil {
		select {
		case <-p.done:
			t.Fatalf("the program returned before printing its URL: %v\n%s", p.err, p.Out)
		default:
		}
		t.Fatal(err)
	}
	p.URL = urlPattern.FindString(line)
	return p
}

// Stop cancels the program's context and waits for run to return. It
// returns run's error, nil if that was only the context's error. Stop may
// be called more than once.
func (p *Program) Stop() error {
	p.cancel()
	<-p.done
	if errors.Is(p.err, context.Canceled) {
		return nil
	}
	return p.err
}

// Done is closed when run has returned.
func (p *Program) Done() <-chan struct{} { return p.done }

// Get fetches url and returns the status code and body; a request that
// fails ends the test.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(b)
}
