package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyrpc/parley/internal/bench"
)

// saved is a report as JSON: every pass's figures, so that the tables
// and the chart can be made again (-from) without measuring again.
type saved struct {
	Started, Finished time.Time
	Machine           machine
	Passes            int
	Benchtime         string
	Calls             []savedKey
	Push              []bench.PushResult   `json:",omitempty"`
	Idle              []bench.IdleResult   `json:",omitempty"`
	Fanout            *bench.FanoutResult  `json:",omitempty"`
	Publish           *bench.PublishResult `json:",omitempty"`
	PublishBare       *bench.PublishResult `json:",omitempty"`
	PublishFloor      *bench.PublishResult `json:",omitempty"`
}

type savedKey struct {
	key
	Samples []sample // one per pass; null where a pass has none
}

func (r *report) save(path string) error {
	s := saved{
		Started: r.started, Finished: r.finished, Machine: r.machine,
		Passes: r.passes, Benchtime: r.benchtime, Push: r.push, Idle: r.idle, Fanout: r.fanout, Publish: r.publish, PublishBare: r.publishBare, PublishFloor: r.publishFloor,
	}
	for _, k := range r.results.keys {
		s.Calls = append(s.Calls, savedKey{k, r.results.samples[k]})
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func load(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s saved
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	r := &report{
		started: s.Started, finished: s.Finished, machine: s.Machine,
		passes: s.Passes, benchtime: s.Benchtime, push: s.Push, idle: s.Idle, fanout: s.Fanout, publish: s.Publish, publishBare: s.PublishBare, publishFloor: s.PublishFloor,
		results: &results{samples: map[key][]sample{}},
	}
	for _, c := range s.Calls {
		r.results.keys = append(r.results.keys, c.key)
		r.results.samples[c.key] = c.Samples
	}
	return r, nil
}
