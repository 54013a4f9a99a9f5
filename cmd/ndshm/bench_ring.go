package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ndshm/ndshm/internal/handoff"
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
// reader processes, which are started once and reused.
func benchRing(ctx context.Context, out io.Writer, asJSON bool, o rbenchOpts) (err error) {
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
