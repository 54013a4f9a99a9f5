package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// rbenchTarget is one of the ring's performance targets and the figure
// this run measured for it. Met is null for a figure reported without a
// target.
type rbenchTarget struct {
	Target string  `json:"target"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Met    *bool   `json:"met"`
}

// rbenchTargets checks the targets whose rows were measured (all of
// them with the default sizes and readers).
func rbenchTargets(rs []rbenchResult) []rbenchTarget {
	find := func(method string, size, readers int) *rbenchResult {
		for i, r := range rs {
			if r.Method == method && r.FrameBytes == size && r.Readers == readers {
				return &rs[i]
			}
		}
		return nil
	}
	ts := []rbenchTarget{}
	add := func(target string, v float64, unit string, met ...bool) {
		t := rbenchTarget{Target: target, Value: v, Unit: unit}
		if len(met) > 0 {
			t.Met = &met[0]
		}
		ts = append(ts, t)
	}
	if r := find(rbenchRing, 100<<20, 2); r != nil {
		add("100 MiB frames to 2 readers, full speed: >= 30 fps", r.FPS, "fps", r.FPS >= rbenchFPS)
		if r.CoreShare != nil {
			add("100 MiB frames to 2 readers at 30 fps: < 5% of one core", 100**r.CoreShare, "% of a core",
				*r.CoreShare < 0.05 && *r.PacedFPS >= rbenchFPS*0.98)
		}
	}
	if r := find(rbenchRing, 64, 1); r != nil {
		add("64 B hand-off latency, blocking: p50 <= 10 µs", r.P50, "µs", r.P50 <= 10)
		add("64 B frames, one writer and one blocking reader: >= 1,000,000 fps", r.FPS, "fps", r.FPS >= 1e6)
	}
	if r := find(rbenchRingSpin, 64, 1); r != nil {
		add("64 B hand-off latency, spinning: p50 (iceoryx2 ~0.24 µs busy-waiting)", r.P50, "µs")
		add("64 B frames, one writer and one spinning reader: >= 1,000,000 fps", r.FPS, "fps", r.FPS >= 1e6)
	}
	return ts
}

// write prints the results as a table, then the targets.
func (rep rbenchReport) write(out io.Writer, o rbenchOpts) error {
	fmt.Fprintf(out, "Broadcast ring (block policy) vs copying through a unix socket, to reader processes.\n"+
		"A ring reader reads one word of each frame; a socket reader reads every byte.\n"+
		"fps and CPU: full speed for %v; latency: publish to reader awake, frames paced;\n"+
		"at %d fps: frames of %s and more, for %v. %s readers poll %v before sleeping.\n\n",
		o.duration, rbenchFPS, humanBytes(int64(o.pacedFrom)), 4*o.duration, rbenchRingSpin, o.spin)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "frame\treaders\tmethod\tfps\tp50 µs\tp99 µs\tCPU s/1k frames\tat 30 fps: fps\tcore share\t")
	for _, r := range rep.Results {
		paced, share := "", ""
		if r.CoreShare != nil {
			paced, share = fmt.Sprintf("%.1f", *r.PacedFPS), fmt.Sprintf("%.2f%%", 100**r.CoreShare)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%.1f\t%.3g\t%s\t%s\t\n", humanBytes(int64(r.FrameBytes)), r.Readers,
			r.Method, rbenchCount(r.FPS), r.P50, r.P99, r.CPUPer1k, paced, share)
	}
	tw.Flush()
	if len(rep.Targets) > 0 {
		fmt.Fprintln(out, "\ntargets:")
	}
	for _, t := range rep.Targets {
		mark := "info"
		if t.Met != nil {
			mark = map[bool]string{true: "met", false: "MISSED"}[*t.Met]
		}
		fmt.Fprintf(out, "  %-6s %s: %s %s\n", mark, t.Target, rbenchCount(t.Value), t.Unit)
	}
	return nil
}

// rbenchCount prints a rate with three significant digits and a k or M.
func rbenchCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.3gk", v/1e3)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
