package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
)

// pushTable is the markdown table of the push latencies, a row per delay
// and library.
func (r *report) pushTable() string {
	if len(r.push) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d pushes per library and delay, interleaved; the server in a process of its own. Latency: from the server handing the push to its library to the client's handler, on the wall clock both processes share. Delay: from the write of the answer to the push, as asked (as it was, median).\n\n", len(r.push[0].Latencies))
	fmt.Fprintf(&b, "| delay | library | p50 | p99 | p99.9 | max | over %s |\n", fmtMs(bench.PushSlow))
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.push {
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s | %d |\n",
			fmtMs(x.Delay), fmtLatency(x.MedianGap()), pushName(x.Lib),
			fmtLatency(x.Quantile(0.5)), fmtLatency(x.Quantile(0.99)), fmtLatency(x.Quantile(0.999)), fmtLatency(x.Max()),
			x.Over(bench.PushSlow))
	}
	return b.String()
}

func pushName(lib string) string {
	switch lib {
	case "parley":
		return "Parley"
	case "sourcegraph":
		return "sourcegraph/jsonrpc2"
	case "raw":
		return "raw gorilla (floor)"
	}
	return lib
}

// fmtLatency formats a latency in µs below a millisecond, else in ms.
func fmtLatency(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// fmtMs formats a round duration in ms: "0.2 ms", "2 ms".
func fmtMs(d time.Duration) string { return strings.TrimSuffix(bench.DelayName(d), "ms") + " ms" }

// pushTargets says, for the targets table, whether Parley's p99.9 is no
// worse than sourcegraph's at every delay, and whether any push took
// longer than bench.PushSlow; beside the latter, how many of the raw
// floor's did, in the same run: those the machine delayed.
func (r *report) pushTargets(row func(target, measured string, met bool)) {
	if len(r.push) == 0 {
		return
	}
	byDelay := map[time.Duration]map[string]bench.PushResult{}
	var delays []time.Duration
	slow, total, worst, floorSlow, floorTotal := 0, 0, time.Duration(0), 0, 0
	for _, x := range r.push {
		if byDelay[x.Delay] == nil {
			byDelay[x.Delay] = map[string]bench.PushResult{}
			delays = append(delays, x.Delay)
		}
		byDelay[x.Delay][x.Lib] = x
		if x.Lib == "parley" {
			slow += x.Over(bench.PushSlow)
			total += len(x.Latencies)
			worst = max(worst, x.Max())
		}
		if x.Lib == "raw" {
			floorSlow += x.Over(bench.PushSlow)
			floorTotal += len(x.Latencies)
		}
	}
	var parts []string
	met, have := true, false
	for _, d := range delays {
		p, ok1 := byDelay[d]["parley"]
		s, ok2 := byDelay[d]["sourcegraph"]
		if !ok1 || !ok2 {
			continue
		}
		have = true
		pq, sq := p.Quantile(0.999), s.Quantile(0.999)
		parts = append(parts, fmt.Sprintf("%s: %s vs %s", fmtMs(d), fmtLatency(pq), fmtLatency(sq)))
		met = met && pq <= sq
	}
	if have {
		row("push p99.9 no worse than sourcegraph/jsonrpc2's, at each delay", strings.Join(parts, "; "), met)
	}
	if total > 0 {
		measured := fmt.Sprintf("%d of %d Parley pushes above; the longest %s", slow, total, fmtLatency(worst))
		if floorTotal > 0 {
			measured += fmt.Sprintf(" (the raw floor: %d of %d)", floorSlow, floorTotal)
		}
		row(fmt.Sprintf("no push above %s on an idle machine (see the load average)", fmtMs(bench.PushSlow)), measured, slow == 0)
	}
}
