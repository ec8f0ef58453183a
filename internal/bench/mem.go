package bench

import (
	"bufio"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// memSnap is what a process holds at one moment: Go heap and stacks in
// use, and goroutines.
type memSnap struct {
	Bytes      uint64 `json:"bytes"` // HeapInuse + StackInuse
	Goroutines int    `json:"goroutines"`
}

// snapshot measures the process after letting it settle: goroutines
// that are ending are waited for (briefly), and garbage is collected
// twice so that sync.Pools are emptied too.
func snapshot() memSnap {
	settleGoroutines()
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnap{Bytes: ms.HeapInuse + ms.StackInuse, Goroutines: runtime.NumGoroutine()}
}

// settleGoroutines waits, up to a second, for the goroutine count to hold
// still over a few looks: handshake goroutines and handlers that have
// answered are still ending just after the last answer arrived.
func settleGoroutines() {
	deadline := time.Now().Add(time.Second)
	last, still := runtime.NumGoroutine(), 0
	for still < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
}

// heapSampler reads heap and stack use without stopping the world, so
// that it can sample while a measurement runs.
type heapSampler struct{ samples []metrics.Sample }

func newHeapSampler() *heapSampler {
	return &heapSampler{samples: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}}
}

// read returns the heap in use (objects and the unused part of their
// spans, as HeapInuse counts it) plus stacks.
func (h *heapSampler) read() uint64 {
	metrics.Read(h.samples)
	var total uint64
	for _, s := range h.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			total += s.Value.Uint64()
		}
	}
	return total
}

// watchPeak samples the heap every few milliseconds until stop is
// called, which returns the highest sample.
func watchPeak() (stop func() uint64) {
	h := newHeapSampler()
	peak := h.read()
	done, result := make(chan struct{}), make(chan uint64, 1)
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				peak = max(peak, h.read())
			case <-done:
				result <- max(peak, h.read())
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-result
	}
}

// vmHWM returns the process's peak resident set size in bytes, from
// /proc/self/status, or 0 where that is not available.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// IOCalls returns how many read and write system calls this process has
// made so far (syscr and syscw of /proc/self/io), or 0, 0 where that is
// not available. Over a loopback benchmark it tells how many messages
// each write carried: write coalescing shows as fewer writes per call.
func IOCalls() (reads, writes uint64) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}
