package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// machine describes where the figures were taken.
type machine struct {
	CPU, Kernel, GoVersion string
	Cores                  int
	MemGiB                 float64
	LoadStart, LoadEnd     string
	Deps                   []string // module and version of the libraries compared
	Commit                 string   // the repository's HEAD when measured; uncommitted changes not shown
}

func describeMachine() machine {
	m := machine{
		CPU:       procField("/proc/cpuinfo", "model name"),
		Kernel:    strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		GoVersion: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		Cores:     runtime.NumCPU(),
		LoadStart: loadAverage(),
	}
	if kb, err := strconv.ParseFloat(strings.Fields(procField("/proc/meminfo", "MemTotal") + " 0")[0], 64); err == nil {
		m.MemGiB = kb / (1 << 20)
	}
	// rev-parse only reads: it leaves the index and the work tree alone.
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/gorilla/websocket", "github.com/sourcegraph/jsonrpc2",
				"github.com/creachadair/jrpc2", "github.com/fxamacker/cbor/v2":
				m.Deps = append(m.Deps, d.Path+" "+d.Version)
			}
		}
	}
	return m
}

func (m machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	return fmt.Sprintf("%d cores (%s), %.0f GiB, Linux %s, %s; load average %s at the start, %s at the end",
		m.Cores, cpu, m.MemGiB, m.Kernel, m.GoVersion, m.LoadStart, m.LoadEnd)
}

// loadAverage returns the 1, 5 and 15 minute load averages.
func loadAverage() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// procField returns the value of the first "name: value" line of a /proc
// file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}
