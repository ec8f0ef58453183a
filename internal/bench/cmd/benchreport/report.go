package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
)

// report gathers everything one run measured.
type report struct {
	started, finished time.Time
	machine           machine
	passes            int
	benchtime         string
	results           *results
	push              []bench.PushResult
	idle              []bench.IdleResult
	fanout            *bench.FanoutResult
	publish           *bench.PublishResult
	publishBare       *bench.PublishResult // the hub, gorilla subscribers
	publishFloor      *bench.PublishResult // gorilla, no RPC layer
}

// Targets from the issue.
const (
	targetTimeRatio    = 1.3
	targetAllocs       = 20
	targetIdleMemRatio = 1.2
	targetIdleGorout   = 2
	targetFanout       = time.Second
	targetRoutedRatio  = 0.5 // hub's time per routed call ÷ nexus's
	targetPublish      = 150 * time.Millisecond
)

// fmtTime formats nanoseconds in the unit that suits the median.
func fmtTime(s stat) string {
	unit, div := "ns", 1.0
	switch {
	case s.Med >= 1e6:
		unit, div = "ms", 1e6
	case s.Med >= 1e3:
		unit, div = "µs", 1e3
	}
	return fmtRange(s, div, "%.1f", " "+unit)
}

// fmtRange formats the median, then the min-max range unless it is one
// value, each divided by div.
func fmtRange(s stat, div float64, verb, unit string) string {
	if !s.ok() {
		return "–"
	}
	med := fmt.Sprintf(verb, s.Med/div) + unit
	lo, hi := fmt.Sprintf(verb, s.Min/div), fmt.Sprintf(verb, s.Max/div)
	if lo == hi {
		return med
	}
	return med + " (" + lo + "–" + hi + ")"
}

func fmtRatio(s stat) string { return fmtRange(s, 1, "%.2f", "") }

// fmtSyscalls gives the median read and write system calls per call.
func fmtSyscalls(reads, writes stat) string {
	if !reads.ok() || !writes.ok() {
		return "–"
	}
	return fmt.Sprintf("%.2f, %.2f", reads.Med, writes.Med)
}

// callTable is the markdown table of BenchmarkCall figures.
func (r *report) callTable() string {
	if len(r.results.keys) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Median of %d interleaved passes (min–max); × raw is the ratio to the raw gorilla echo of the same pass at the same in-flight level, median of the per-pass ratios.\n\n", r.passes)
	b.WriteString("| scenario | in flight | time/call | × raw | calls/s | CPU/call | × raw | allocs/call | × raw | B/call | × raw | reads, writes/call |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, k := range r.results.keys {
		row := []string{
			k.Lib + " " + k.Dir, fmt.Sprint(k.InFlight),
			fmtTime(r.results.figure(k, "ns/op")), fmtRatio(r.results.ratio(k, "ns/op")),
			fmtRange(r.results.figure(k, "calls/s"), 1e3, "%.1f", "k"),
			fmtTime(r.results.figure(k, "cpu-ns/call")), fmtRatio(r.results.ratio(k, "cpu-ns/call")),
			fmtRange(r.results.figure(k, "allocs/op"), 1, "%.0f", ""), fmtRatio(r.results.ratio(k, "allocs/op")),
			fmtRange(r.results.figure(k, "B/op"), 1, "%.0f", ""), fmtRatio(r.results.ratio(k, "B/op")),
			fmtSyscalls(r.results.figure(k, "reads/call"), r.results.figure(k, "writes/call")),
		}
		if k.Lib == "raw" {
			row[0] = "raw gorilla echo"
		}
		b.WriteString("| " + strings.Join(row, " | ") + " |\n")
	}
	return b.String()
}

// idleTable is the markdown table of the idle measurement.
func (r *report) idleTable() string {
	if len(r.idle) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d idle connections, each after connecting and one call; Go heap+stacks in use after GC, and goroutines, per connection, each side in its own process.\n\n", r.idle[0].Conns)
	b.WriteString("| library | server bytes/conn | server goroutines/conn | client bytes/conn | client goroutines/conn |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.idle {
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.0f | %.2f |\n", idleName(x.Lib),
			x.ServerBytesPerConn, x.ServerGoroutinesPerConn, x.ClientBytesPerConn, x.ClientGoroutinesPerConn)
	}
	if raw, parley, ok := r.idlePair(); ok {
		fmt.Fprintf(&b, "| Parley ÷ raw | %.2f | %.2f | %.2f | %.2f |\n",
			parley.ServerBytesPerConn/raw.ServerBytesPerConn, parley.ServerGoroutinesPerConn/raw.ServerGoroutinesPerConn,
			parley.ClientBytesPerConn/raw.ClientBytesPerConn, parley.ClientGoroutinesPerConn/raw.ClientGoroutinesPerConn)
	}
	return b.String()
}

func idleName(lib string) string {
	if lib == "raw" {
		return "raw gorilla (one reader goroutine per conn)"
	}
	return "Parley (adapters/websocket, defaults)"
}

func (r *report) idlePair() (raw, parley bench.IdleResult, ok bool) {
	var haveRaw, haveParley bool
	for _, x := range r.idle {
		switch x.Lib {
		case "raw":
			raw, haveRaw = x, true
		case "parley":
			parley, haveParley = x, true
		}
	}
	return raw, parley, haveRaw && haveParley
}

// fanoutText is the fan-out measurement as a markdown list.
func (r *report) fanoutText() string {
	f := r.fanout
	if f == nil {
		return ""
	}
	rounds := make([]string, len(f.Rounds))
	for i, d := range f.Rounds {
		rounds[i] = fmtDuration(d)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Fan-out: a Parley server (adapters/websocket, rpc.PeerSet) with %d clients connected over loopback from a child process calls `add` on every one with `rpc.CallAll` and gathers all answers.\n\n", f.Clients)
	fmt.Fprintf(&b, "- gather wall time, %d rounds: %s (median %s); failed replies: %d\n", len(f.Rounds), strings.Join(rounds, ", "), fmtDuration(f.Median()), f.Failed)
	fmt.Fprintf(&b, "- connecting all clients (32 dials at a time, one call each): %s\n", fmtDuration(f.Connect))
	fmt.Fprintf(&b, "- server Go heap+stacks in use: %s idle with every client connected, %s peak during the gathers (%.1f KiB per client idle)\n",
		fmtBytes(f.IdleBytes), fmtBytes(f.PeakBytes), float64(f.IdleBytes)/1024/float64(f.Clients))
	fmt.Fprintf(&b, "- peak resident set (VmHWM), connecting included: server process %s, client process %s\n", fmtBytes(f.ServerHWM), fmtBytes(f.ClientHWM))
	return b.String()
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func fmtDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmtDuration(d)
	}
	return strings.Join(parts, ", ")
}

func fmtBytes(n uint64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// targetsTable says where Parley stands against each of the issue's
// targets.
func (r *report) targetsTable() string {
	var b strings.Builder
	b.WriteString("| target | measured | met |\n| --- | --- | :---: |\n")
	row := func(target, measured string, met bool) {
		mark := "no"
		if met {
			mark = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", target, measured, mark)
	}
	for _, inflight := range bench.InFlight {
		var parts []string
		met, have := true, false
		for _, dir := range []string{bench.ClientToServer, bench.ServerToClient} {
			s := r.results.ratio(key{"parley-json", dir, inflight}, "ns/op")
			if !s.ok() {
				continue
			}
			have = true
			parts = append(parts, fmt.Sprintf("%s %.2f×", dir, s.Med))
			met = met && s.Med <= targetTimeRatio
		}
		if have {
			var inline []string
			for _, dir := range []string{bench.ClientToServer, bench.ServerToClient} {
				if s := r.results.ratio(key{"parley-json-inline", dir, inflight}, "ns/op"); s.ok() {
					inline = append(inline, fmt.Sprintf("%s %.2f×", dir, s.Med))
				}
			}
			measured := strings.Join(parts, ", ")
			if len(inline) > 0 {
				measured += "; with rpc.Inline: " + strings.Join(inline, ", ")
			}
			row(fmt.Sprintf("time per call ≤ %.1f× raw echo, JSON, %d in flight", targetTimeRatio, inflight),
				measured+peers(r.results, inflight), met)
		}
	}
	worst, where := math.Inf(-1), ""
	for _, k := range r.results.keys {
		if !strings.HasPrefix(k.Lib, "parley") {
			continue
		}
		if s := r.results.figure(k, "allocs/op"); s.ok() && s.Med > worst {
			worst, where = s.Med, k.String()
		}
	}
	if where != "" {
		row(fmt.Sprintf("≤ %d allocations per call, both ends", targetAllocs),
			fmt.Sprintf("at most %.0f (%s)%s", worst, where, peerAllocs(r.results)), worst <= targetAllocs)
	}
	r.pushTargets(row)
	if raw, parley, ok := r.idlePair(); ok {
		ratio := parley.ServerBytesPerConn / raw.ServerBytesPerConn
		row(fmt.Sprintf("idle connection ≤ %.1f× raw gorilla's memory (server)", targetIdleMemRatio),
			fmt.Sprintf("%.2f× (%.0f vs %.0f bytes; client side %.2f×)", ratio, parley.ServerBytesPerConn, raw.ServerBytesPerConn,
				parley.ClientBytesPerConn/raw.ClientBytesPerConn), ratio <= targetIdleMemRatio)
		row(fmt.Sprintf("≤ %d goroutines per idle connection on the server", targetIdleGorout),
			fmt.Sprintf("%.2f", parley.ServerGoroutinesPerConn), parley.ServerGoroutinesPerConn <= targetIdleGorout)
	}
	for _, inflight := range bench.InFlight {
		hub := r.results.figure(key{"hub-json", bench.Routed, inflight}, "ns/op")
		nexus := r.results.figure(key{"nexus", bench.Routed, inflight}, "ns/op")
		if hub.ok() && nexus.ok() {
			ratio := hub.Med / nexus.Med
			beside := ""
			if in := r.results.figure(key{"hub-json-inline", bench.Routed, inflight}, "ns/op"); in.ok() {
				beside += fmt.Sprintf("; with the callee's handler rpc.Inline %s, %.2f×", fmtTime(in), in.Med/nexus.Med)
			}
			if raw := r.results.figure(key{"raw-relay", bench.Routed, inflight}, "ns/op"); raw.ok() {
				beside += fmt.Sprintf("; the raw relay %s, %.2f× nexus's", fmtTime(raw), raw.Med/nexus.Med)
			}
			row(fmt.Sprintf("routed call (caller, hub, callee) ≤ %.1f× nexus's time, JSON, %d in flight", targetRoutedRatio, inflight),
				fmt.Sprintf("%.2f× (%s vs %s%s)", ratio, fmtTime(hub), fmtTime(nexus), beside), ratio <= targetRoutedRatio)
		}
	}
	if p := r.publish; p != nil && len(p.Rounds) > 0 {
		floor := ""
		if b := r.publishBare; b != nil && len(b.Rounds) > 0 {
			floor = fmt.Sprintf("; to bare subscribers, median %s", fmtDuration(b.Median()))
		}
		if f := r.publishFloor; f != nil && len(f.Rounds) > 0 {
			floor += fmt.Sprintf("; the raw floor's median %s (%.2f×)", fmtDuration(f.Median()), float64(p.Median())/float64(f.Median()))
		}
		row(fmt.Sprintf("publish to %d subscribers, until the last has it, < %v", p.Subscribers, targetPublish),
			fmt.Sprintf("median %s (rounds %s); %.1f allocations, %.0f bytes per event on the server%s", fmtDuration(p.Median()), fmtDurations(p.Rounds), p.AllocsPerEvent, p.BytesPerEvent, floor),
			p.Median() < targetPublish)
	}
	if f := r.fanout; f != nil && len(f.Rounds) > 0 {
		worstRound := f.Rounds[0]
		for _, d := range f.Rounds {
			worstRound = max(worstRound, d)
		}
		row(fmt.Sprintf("fan-out to %d clients gathered in < %v", f.Clients, targetFanout),
			fmt.Sprintf("median %s, worst %s, %d failed", fmtDuration(f.Median()), fmtDuration(worstRound), f.Failed),
			f.Median() < targetFanout && f.Failed == 0)
	}
	return b.String()
}

// peers returns the comparison libraries' time ratios at a level, for
// context.
func peers(res *results, inflight int) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, k := range res.keys {
		if k.InFlight != inflight || k.Lib == "raw" || strings.HasPrefix(k.Lib, "parley") || k.Dir == bench.Routed {
			continue
		}
		if s := res.ratio(k, "ns/op"); s.ok() {
			lo, hi = min(lo, s.Med), max(hi, s.Med)
		}
	}
	if math.IsInf(lo, 0) {
		return ""
	}
	return fmt.Sprintf(" (sourcegraph, jrpc2: %.2f×–%.2f×)", lo, hi)
}

func peerAllocs(res *results) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, k := range res.keys {
		if k.Lib == "raw" || strings.HasPrefix(k.Lib, "parley") || k.Dir == bench.Routed {
			continue
		}
		if s := res.figure(k, "allocs/op"); s.ok() {
			lo, hi = min(lo, s.Med), max(hi, s.Med)
		}
	}
	if math.IsInf(lo, 0) {
		return ""
	}
	return fmt.Sprintf("; sourcegraph, jrpc2: %.0f–%.0f", lo, hi)
}

// markdown is the whole report, as RESULTS.md.
func (r *report) markdown(png string) string {
	var b strings.Builder
	b.WriteString("# Benchmark results\n\n")
	fmt.Fprintf(&b, "Written by `go run ./cmd/benchreport` (in `internal/bench`) on %s, in %s.\n\n",
		r.started.UTC().Format("2006-01-02 15:04 UTC"), r.finished.Sub(r.started).Round(time.Second))
	fmt.Fprintf(&b, "Machine: %s. It is shared with other work and noisy: whole processes land in fast or slow phases, which is why each scenario runs in a process of its own, round-robin over %d passes (`-benchtime=%s` each), and ratios are taken within a pass. Read the figures as rough.\n\n",
		r.machine, r.passes, r.benchtime)
	if len(r.machine.Deps) > 0 {
		fmt.Fprintf(&b, "Libraries: %s.", strings.Join(r.machine.Deps, ", "))
		if r.machine.Commit != "" {
			fmt.Fprintf(&b, " Parley at commit %s (plus whatever was uncommitted then).", r.machine.Commit)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("Every scenario is the same work: a call `add` with params `[1,2]` answered `3`, over a real loopback WebSocket. " +
		"The raw echo is gorilla/websocket moving the exact bytes of Parley's JSON request and answer with no RPC layer (sequential: write then read; 64 in flight: one writer and one reader goroutine per side). " +
		"c2s: the dialing end calls the accepting end; s2c: the other way. Parley runs each call's handler on a goroutine of its own, and its read loop hands each answer to its caller; parley-json-inline serves `add` with an `rpc.Inline` handler, run on the connection's read loop itself. Allocations, CPU time (getrusage) and system calls (/proc/self/io) count both ends (one process); fewer than 2 writes per call means messages were coalesced.\n\n")
	if len(r.results.keys) > 0 {
		b.WriteString("## Calls\n\n")
		b.WriteString(r.callTable())
		if png != "" {
			fmt.Fprintf(&b, "\n![time per call, ratio to the raw echo](%s)\n", png)
		}
	}
	if len(r.push) > 0 {
		b.WriteString("\n## Server pushes\n\n")
		b.WriteString("A client calls `add`; the server answers and, 0, 0.2, 1 or 3 ms after the answer's write returned, notifies the client. Default options over loopback WebSocket, JSON; sourcegraph/jsonrpc2 with AsyncHandler on both ends.\n\n")
		b.WriteString(r.pushTable())
	}
	if len(r.idle) > 0 {
		b.WriteString("\n## Idle connections\n\n")
		b.WriteString(r.idleTable())
	}
	if r.fanout != nil {
		b.WriteString("\n## Fan-out\n\n")
		b.WriteString(r.fanoutText())
	}
	if p := r.publish; p != nil && len(p.Rounds) > 0 {
		b.WriteString("\n## Publish (hub)\n\n")
		fmt.Fprintf(&b, "A hub (`rpc/hub`) publishes one event to %d subscribers (Parley clients in a child process, one topic); each round is timed until the child reports that its last subscriber has the event: median %s (rounds %s). The server allocates %.1f times (%.0f bytes) per event delivered.\n",
			p.Subscribers, fmtDuration(p.Median()), fmtDurations(p.Rounds), p.AllocsPerEvent, p.BytesPerEvent)
		b.WriteString("\n| publisher | median | rounds | CPU per event, server | CPU per event, subscribers |\n| --- | ---: | --- | ---: | ---: |\n")
		for _, x := range []struct {
			name string
			p    *bench.PublishResult
		}{{"hub", p}, {"hub, bare subscribers", r.publishBare}, {"raw floor", r.publishFloor}} {
			if x.p == nil || len(x.p.Rounds) == 0 {
				continue
			}
			per := func(d time.Duration) string {
				return fmt.Sprintf("%.1f µs", float64(d)/float64(x.p.Subscribers)/1e3)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.name, fmtDuration(x.p.Median()), fmtDurations(x.p.Rounds), per(x.p.ServerCPU), per(x.p.ClientCPU))
		}
		b.WriteString("\nBare subscribers are gorilla clients that send `hub.subscribe` themselves and then only read and count, as the floor's do: the hub's side alone, with subscribers that do no RPC work. The raw floor is gorilla/websocket with no RPC layer: the server writes the hub's event bytes to as many gorilla clients, each write on a goroutine of its own, and each client reads on one goroutine and counts. Both sides share the machine's processors, so a round takes at least the two processes' CPU time divided by the processors.\n")
	}
	b.WriteString("\n## Targets\n\n")
	b.WriteString(r.targetsTable())
	return b.String()
}
