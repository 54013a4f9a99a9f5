package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
)

// rbenchResult is one line of `ndshm bench ring --json`: one method, frame
// size and number of reader processes. FPS and CPUPer1k come from a run
// at full speed, P50 and P99 from a paced one, in which the readers fall
// asleep (or spin) before each frame; PacedFPS and CoreShare, for big
// frames, from one at 30 fps.
type rbenchResult struct {
	Method     string   `json:"method"`
	FrameBytes int      `json:"frame_bytes"`
	Readers    int      `json:"readers"`
	FPS        float64  `json:"fps"`
	P50        float64  `json:"p50_us"`
	P99        float64  `json:"p99_us"`
	CPUPer1k   float64  `json:"cpu_s_per_1k"`
	SpinUs     float64  `json:"spin_us"`
	Slots      int      `json:"slots,omitempty"` // the ring's
	Frames     int      `json:"frames"`          // sent at full speed
	Samples    int      `json:"samples"`         // latencies, over all readers
	PacedFPS   *float64 `json:"paced_fps,omitempty"`
	CoreShare  *float64 `json:"core_share,omitempty"` // CPU seconds per second at 30 fps
}

type rbenchReport struct {
	Bench   string         `json:"bench"`
	Results []rbenchResult `json:"results"`
	Targets []rbenchTarget `json:"targets"`
}

const (
	rbenchRing     = "ndshm-ring"
	rbenchRingSpin = "ndshm-ring-spin"
	rbenchSocket   = "unix-socket-copy"
	rbenchFPS      = 30
)

var rbenchMethods = []string{rbenchRing, rbenchRingSpin, rbenchSocket}

// benchRing measures every method for each frame size and number of
// reader processes, which are started once and reused, and draws the
// results into the file plot, if one is named.
func benchRing(ctx context.Context, out io.Writer, asJSON bool, plot string, o rbenchOpts) (err error) {
	peers, err := startRbenchPeers(slices.Max(o.readers))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeRbenchPeers(peers)) }()
	rep := rbenchReport{Bench: "ring", Results: []rbenchResult{}}
	for _, size := range o.sizes {
		sock := rbenchTouched(rbenchHeader + size) // the socket writer's frame, made once
		for _, n := range o.readers {
			for _, m := range rbenchMethods {
				res, err := o.measure(ctx, peers[:n], m, size, sock)
				if err != nil {
					return fmt.Errorf("bench ring: %s, frames of %d bytes to %d readers: %w", m, size, n, err)
				}
				rep.Results = append(rep.Results, res)
			}
		}
	}
	rep.Targets = rbenchTargets(rep.Results)
	if plot != "" {
		if err := chart.Save(plot, ringChart(rep.Results)); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false) // the targets say >= and <
		return enc.Encode(rep)
	}
	return rep.write(out, o)
}

// measure runs one method at full speed, paced for latency, and for
// big frames at 30 fps.
func (o rbenchOpts) measure(ctx context.Context, peers []*rbenchPeer, method string, size int, sock []byte) (rbenchResult, error) {
	r := rbenchRun{size: size, slots: max(3, min(8, (256<<20)/size))}
	// Readers that block are asleep 200 µs after a frame; readers that
	// spin must still be spinning when the next comes.
	lat := rbenchPacer{d: o.duration, min: 10, max: 5000, gap: 200 * time.Microsecond}
	switch method {
	case rbenchRingSpin:
		r.spin = o.spin
		lat.max, lat.gap, lat.busy = 50000, min(10*time.Microsecond, o.spin/5), true
	case rbenchSocket:
		r.slots, r.sock = 0, sock
	}
	full, err := r.run(ctx, peers, rbenchPacer{d: o.duration, min: 10}, false)
	if err != nil {
		return rbenchResult{}, err
	}
	paced, err := r.run(ctx, peers, lat, true)
	if err != nil {
		return rbenchResult{}, err
	}
	res := rbenchResult{Method: method, FrameBytes: size, Readers: len(peers), Slots: r.slots,
		FPS: float64(full.frames) / full.wall.Seconds(), CPUPer1k: full.cpu.Seconds() / float64(full.frames) * 1000,
		P50: handoff.Percentile(paced.lat, 50), P99: handoff.Percentile(paced.lat, 99),
		SpinUs: float64(r.spin) / 1e3, Frames: full.frames, Samples: len(paced.lat)}
	if size >= o.pacedFrom {
		st, err := r.run(ctx, peers, rbenchPacer{d: 4 * o.duration, min: 3, period: time.Second / rbenchFPS}, false)
		if err != nil {
			return rbenchResult{}, err
		}
		share := st.cpu.Seconds() / st.wall.Seconds()
		res.PacedFPS, res.CoreShare = &st.rate, &share
	}
	return res, nil
}

// rbenchOpts are `ndshm bench ring`'s flags.
type rbenchOpts struct {
	sizes, readers []int
	duration, spin time.Duration
	pacedFrom      int // frames this big also run at 30 fps
}

// parseRbenchOpts checks `ndshm bench ring`'s flags.
func parseRbenchOpts(sizes, readers string, duration, spin time.Duration, pacedFrom string) (rbenchOpts, error) {
	o := rbenchOpts{duration: duration, spin: spin}
	var err error
	if o.sizes, err = parseSizes(sizes); err != nil {
		return o, fmt.Errorf("--sizes: %v", err)
	}
	for _, n := range o.sizes {
		if n < 8 {
			return o, fmt.Errorf("--sizes: frames of %d bytes: they hold an 8-byte sequence number", n)
		}
	}
	for _, s := range strings.Split(readers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 8 {
			return o, fmt.Errorf("--readers: %q is not 1 to 8 reader processes", s)
		}
		o.readers = append(o.readers, n)
	}
	if o.pacedFrom, err = human.ParseBytes(pacedFrom); err != nil {
		return o, fmt.Errorf("--paced-from: %v", err)
	}
	if duration <= 0 || spin <= 0 {
		return o, fmt.Errorf("--duration and --spin must be positive")
	}
	return o, nil
}

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
		o.duration, rbenchFPS, human.Bytes(int64(o.pacedFrom)), 4*o.duration, rbenchRingSpin, o.spin)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "frame\treaders\tmethod\tfps\tp50 µs\tp99 µs\tCPU s/1k frames\tat 30 fps: fps\tcore share\t")
	for _, r := range rep.Results {
		paced, share := "", ""
		if r.CoreShare != nil {
			paced, share = fmt.Sprintf("%.1f", *r.PacedFPS), fmt.Sprintf("%.2f%%", 100**r.CoreShare)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%.1f\t%.3g\t%s\t%s\t\n", human.Bytes(int64(r.FrameBytes)), r.Readers,
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
