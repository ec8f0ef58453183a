package main

import (
	"math"
	"sort"
)

// stat is the median and range of a figure over passes.
type stat struct {
	Med, Min, Max float64
	N             int // passes that had the figure
}

func (s stat) ok() bool { return s.N > 0 }

func summarize(vs []float64) stat {
	var clean []float64
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			clean = append(clean, v)
		}
	}
	if len(clean) == 0 {
		return stat{}
	}
	sort.Float64s(clean)
	n := len(clean)
	med := clean[n/2]
	if n%2 == 0 {
		med = (clean[n/2-1] + clean[n/2]) / 2
	}
	return stat{Med: med, Min: clean[0], Max: clean[n-1], N: n}
}

// figure summarizes one unit of k over the passes.
func (r *results) figure(k key, unit string) stat {
	var vs []float64
	for _, s := range r.samples[k] {
		if v, ok := s[unit]; ok {
			vs = append(vs, v)
		}
	}
	return summarize(vs)
}

// ratio summarizes k's unit divided by raw's at the same in-flight level,
// each pass against the raw echo of the same pass.
func (r *results) ratio(k key, unit string) stat {
	raw := key{"raw", "c2s", k.InFlight}
	var vs []float64
	for p, s := range r.samples[k] {
		rs := r.samples[raw]
		if s == nil || p >= len(rs) || rs[p] == nil {
			continue
		}
		v, ok1 := s[unit]
		base, ok2 := rs[p][unit]
		if ok1 && ok2 && base > 0 {
			vs = append(vs, v/base)
		}
	}
	return summarize(vs)
}
