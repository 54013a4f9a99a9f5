package main

import (
	"strings"
	"testing"

	"github.com/ndshm/ndshm/internal/demo"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// The README's main job must run, check its own results (the demo fails
// on any wrong element or sum), report them, and leave nothing behind,
// which TestMain checks: the demo's blocks carry this process's pid.
func TestDemo(t *testing.T) {
	shmtest.Python(t) // in CI the NumPy stages must run, not be skipped
	r := decodeJSON[demo.Results](t, mustRun(t, "demo", "--json"))

	// Doctor's report came first: a measured first touch, in the block
	// directory, with its advice.
	if m := r.Machine; m.PageTouchNs4K == nil || *m.PageTouchNs4K <= 0 || m.ShmDir == "" || m.Advice == nil {
		t.Errorf("machine: %+v; want doctor's report with a positive page_touch_ns_4k", m)
	}

	// The job: n elements 0…n-1, the first half mapped x ↦ 2x+1 by the
	// worker, whose sum of that half is (n/2)²; NumPy sums the whole.
	n := float64(r.Job.Count)
	half := n / 2
	job := r.Job
	if r.Job.Count != 32<<20 || job.Fill <= 0 || job.Attach <= 0 || len(job.Channels) != 2 {
		t.Fatalf("job: %+v", job)
	}
	for _, c := range job.Channels {
		if c.Sum != half*half || c.Took <= 0 || c.Moved <= 0 {
			t.Errorf("job channel %+v: want sum %v and positive time and bytes", c, half*half)
		}
	}
	shared, copied := job.Channels[0], job.Channels[1]
	if !strings.HasPrefix(shared.Method, "ndshm") || copied.Moved != 8*r.Job.Count*3/2 || shared.Moved >= 100 {
		t.Errorf("channels moved %d B (%s) and %d B (%s); want under 100 B through ndshm, 1.5 arrays copied",
			shared.Moved, shared.Method, copied.Moved, copied.Method)
	}
	if want := float64(copied.Took) / float64(shared.Took); job.Speedup != want || !(job.Speedup > 0) {
		t.Errorf("speedup %v, want the ratio of the times, %v", job.Speedup, want)
	}
	if want := half*half + (n*(n-1)-half*(half-1))/2; job.NumPy == "" || job.NumPySum != want {
		t.Errorf("numpy %q summed %v, want %v", job.NumPy, job.NumPySum, want)
	}

	// Map/reduce: Σ(2i+1) over i < n is n² in every kind of pool.
	pools := []string{"serial 1", "goroutine 2", "process 2"}
	if len(r.Pools) != len(pools) {
		t.Fatalf("pools: %+v", r.Pools)
	}
	for i, p := range r.Pools {
		if got := p.Mode + " " + string(rune('0'+p.Workers)); got != pools[i] || p.Sum != n*n || p.Took <= 0 {
			t.Errorf("pool %d: %+v, want %s with sum %v", i, p, pools[i], n*n)
		}
	}

	// The stream: every consumer of each channel got every frame sent.
	if len(r.Stream) != 2 {
		t.Fatalf("stream: %+v", r.Stream)
	}
	for _, s := range r.Stream {
		if s.Sent < 1 || s.Took <= 0 || s.CPU <= 0 || len(s.Consumers) != 2 {
			t.Errorf("stream %s: %+v", s.Channel, s)
		}
		for _, c := range s.Consumers {
			if c.Frames != s.Sent || c.Lost+uint64(c.Torn+c.Dup) != 0 || !(c.P50 > 0) || c.P99 < c.P50 || c.CPU <= 0 {
				t.Errorf("stream %s, %s: %+v, sent %d", s.Channel, c.Who, c.Report, s.Sent)
			}
		}
	}

	// The data server: 0…m-1 loaded, summed by Go and NumPy, the orphan
	// collected, the block unlinked at the end.
	l := r.Lifecycle
	m := float64(l.Size / 8)
	if want := m * (m - 1) / 2; l.Size != 64<<20 || l.GoSum != want || l.NumPySum != want || l.NumPy == "" {
		t.Errorf("lifecycle sums: %+v, want %v", l, want)
	}
	if l.OrphanRemoved <= 0 || !l.Unlinked || exists(l.Name) {
		t.Errorf("lifecycle: %+v", l)
	}
}
