// Package leakcheck fails a test binary that leaves goroutines behind.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { leakcheck.Main(m) }
//
// After all tests ran and passed, it waits up to a few seconds for the
// goroutines started by the tests to end, then fails the binary, printing
// their stacks, if any is left.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and then the leak check, and exits.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := Wait(5 * time.Second); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) left after the tests:\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Wait waits up to d for stray goroutines to end, and returns the stacks
// of those still running.
func Wait(d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		leaked := Stray()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stray returns the stacks of running goroutines other than the caller's
// and those the runtime and the testing package own.
func Stray() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var stray []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || ignored(g) { // the first is our own
			continue
		}
		stray = append(stray, g)
	}
	sort.Strings(stray)
	return stray
}

// ignoredFuncs are the top functions of goroutines the runtime or the
// standard library keep for the whole process.
var ignoredFuncs = []string{
	"testing.(*M).",
	"testing.runFuzzing",
	"testing.(*F).Fuzz",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
}

func ignored(stack string) bool {
	lines := strings.SplitN(stack, "\n", 3)
	if len(lines) < 2 {
		return true
	}
	for _, f := range ignoredFuncs {
		if strings.Contains(lines[1], f) {
			return true
		}
	}
	return false
}
