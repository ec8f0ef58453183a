package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The idle and fan-out measurements put their clients in a child process:
// each side is then measured alone, and 10,000 connections need 10,000
// file descriptors on each side, which one process may not be allowed to
// hold twice (20,000 open files per process is a common limit). A child is the same program started again with the
// environment variable childEnv set to its childSpec; it talks to its
// parent with lines on stdout that start with linePrefix, and ends when
// its stdin closes.

const (
	childEnv   = "PARLEY_BENCH_CHILD"
	linePrefix = "bench-child: "
)

// childSpec says what a child does.
type childSpec struct {
	Role    string `json:"role"` // see roles
	Lib     string `json:"lib,omitempty"`
	URL     string `json:"url,omitempty"`
	N       int    `json:"n"`
	Rounds  int    `json:"rounds,omitempty"`
	Dialers int    `json:"dialers,omitempty"` // dials at once
}

// Spawner returns a command that runs this program again, in a way that
// reaches [RunChild]: a cmd's main calls it first thing, a test binary
// runs a test that does.
type Spawner func() *exec.Cmd

// SelfSpawner starts the running executable again with the same
// arguments. It suits programs whose main calls [RunChild] before
// anything else.
func SelfSpawner() Spawner {
	return func() *exec.Cmd {
		exe, err := os.Executable()
		if err != nil {
			exe = os.Args[0]
		}
		return exec.Command(exe, os.Args[1:]...)
	}
}

// RunChild runs this process as a child, if it was started as one by the
// suite, and reports whether it was. A child's failure is written to
// stderr and returned.
func RunChild() (bool, error) {
	raw, ok := os.LookupEnv(childEnv)
	if !ok {
		return false, nil
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return true, fmt.Errorf("bench: child spec %q: %w", raw, err)
	}
	role, ok := roles[spec.Role]
	if !ok {
		return true, fmt.Errorf("bench: no child role %q", spec.Role)
	}
	err := role(spec, os.Stdin, func(v any) error { return writeLine(os.Stdout, v) })
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench child %s: %v\n", spec.Role, err)
	}
	return true, err
}

// roles are the things a child can do. Each reports with say and returns
// once its work is done; the clients' roles wait for stdin to close
// before they disconnect.
var roles map[string]func(spec childSpec, stdin io.Reader, say func(any) error) error

func init() {
	roles = map[string]func(childSpec, io.Reader, func(any) error) error{
		"idle-clients":         idleClients,
		"idle-server":          idleServer,
		"fanout-clients":       fanoutClients,
		"fanout-server":        freshServer(MeasureFanout),
		"push-server":          pushServer,
		"publish-clients":      publishClients,
		"publish-server":       freshServer(MeasurePublish),
		"publish-raw-clients":  publishRawClients,
		"publish-raw-server":   freshServer(MeasurePublishFloor),
		"publish-bare-clients": publishBareClients,
		"publish-bare-server":  freshServer(MeasurePublishBare),
		"cluster-node":         clusterNode,
		"cluster-clients":      clusterClients,
	}
}

// freshServer is the child role that runs measure, a measurement whose
// server side is the measuring process, in a process of its own (which
// starts the clients' process in turn), and reports its result.
func freshServer[R any](measure func(n, rounds int, spawn Spawner) (R, error)) func(childSpec, io.Reader, func(any) error) error {
	return func(spec childSpec, _ io.Reader, say func(any) error) error {
		res, err := measure(spec.N, spec.Rounds, SelfSpawner())
		if err != nil {
			return err
		}
		return say(res)
	}
}

// measureFresh runs spec's role, a measurement's server side, in a new
// process started with spawn, and returns what it reports within timeout.
func measureFresh[R any](spawn Spawner, spec childSpec, timeout time.Duration) (R, error) {
	var res R
	c, err := startChild(spawn, spec)
	if err != nil {
		return res, err
	}
	err = c.next(&res, timeout)
	if _, werr := c.stop(time.Minute); err == nil {
		err = werr
	}
	return res, err
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", linePrefix, b)
	return err
}

// child is a running child process, seen from its parent.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its report lines; closed when its stdout ends
}

// startChild starts spawn's command as a child doing spec.
func startChild(spawn Spawner, spec childSpec) (*child, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := spawn()
	cmd.Env = append(os.Environ(), childEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 8)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), linePrefix); ok {
				c.lines <- line
			}
		}
	}()
	return c, nil
}

// next decodes the child's next report line into v, waiting up to
// timeout.
func (c *child) next(v any, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-c.lines:
		if !ok {
			return errors.New("bench: the child ended without reporting")
		}
		return json.Unmarshal([]byte(line), v)
	case <-t.C:
		return fmt.Errorf("bench: no report from the child in %v", timeout)
	}
}

// stop closes the child's stdin, which tells it to finish, and waits for
// it to exit, killing it if it takes longer than timeout. It returns the
// child's last report line, if it wrote one after being told to stop.
func (c *child) stop(timeout time.Duration) ([]string, error) {
	_ = c.stdin.Close()
	exited := make(chan error, 1)
	var rest []string
	go func() {
		for line := range c.lines { // ends when its stdout closes
			rest = append(rest, line)
		}
		exited <- c.cmd.Wait()
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-exited:
		return rest, err
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-exited
		return rest, fmt.Errorf("bench: child did not exit within %v; killed", timeout)
	}
}

// waitEOF returns when r reaches its end: the parent closed our stdin.
func waitEOF(r io.Reader) {
	_, _ = io.Copy(io.Discard, r)
}

func jsonUnmarshal(line string, v any) error { return json.Unmarshal([]byte(line), v) }
