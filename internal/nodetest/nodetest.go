// Package nodetest runs JavaScript clients under node for interop tests:
// real npm packages that Parley did not write, talking to a Go server.
//
// Each test folder holds a package.json and a package-lock.json pinning the
// npm packages. Setup installs them with `npm ci` the first time (so that
// `go test ./...` works on a fresh machine with node and npm), and skips the
// test with a clear message only when node or npm is absent. Under CI
// (CI=true) a missing node fails the test instead: CI must run interop.
package nodetest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// install is the outcome of `npm ci` in one folder, shared by every test
// that needs it.
type install struct {
	once sync.Once
	err  error
}

var installs sync.Map // dir -> *install

// Setup makes sure node is present and dir's npm packages are installed,
// and returns dir as an absolute path. It skips t when node or npm is
// missing, except under CI, where it fails t.
func Setup(t testing.TB, dir string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("interop test needs %s, which is not installed (CI must provide it)", tool)
			}
			t.Skipf("skipping interop test: %s is not installed (install Node.js to run it)", tool)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := installs.LoadOrStore(abs, new(install))
	in := v.(*install)
	in.once.Do(func() {
		if _, err := os.Stat(filepath.Join(abs, "node_modules")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			in.err = &installError{out: out, err: err}
		}
	})
	if in.err != nil {
		t.Fatalf("npm ci in %s: %v", abs, in.err)
	}
	return abs
}

type installError struct {
	out []byte
	err error
}

func (e *installError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// Run runs `node script args...` in dir and returns its standard output.
// It fails t, showing both outputs, if node exits non-zero or ctx ends.
func Run(ctx context.Context, t testing.TB, dir, script string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
