package stream

import (
	"math/rand/v2"
	"time"

	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/ring"
)

// A Report is what a receiver of a stream got: ring recv's JSON.
type Report struct {
	Frames int     `json:"frames"`
	Lost   uint64  `json:"lost"`
	Dup    int     `json:"dup"`
	Torn   int     `json:"torn"`
	FPS    float64 `json:"fps"`
	P50    float64 `json:"p50_us"`
	P99    float64 `json:"p99_us"`
	Missed uint64  `json:"missed"`
}

// A Receiver counts the frames of one stream as they come. Its zero value
// counts a broadcast stream; it is not safe for concurrent use.
type Receiver struct {
	Mode ring.Mode // in queue mode gaps are other readers' frames, not losses

	n           int
	last        uint64 // seq of the last frame
	gaps        uint64
	dup, torn   int
	first, prev time.Time // when the first and the last frame came
	lat         latencySample
}

// Frames is how many frames have been counted.
func (c *Receiver) Frames() int { return c.n }

// AddLatency records one frame's latency, from publishing to receiving.
func (c *Receiver) AddLatency(d time.Duration) { c.lat.add(d) }

// Count records frame seq, received at now, torn or not.
func (c *Receiver) Count(seq uint64, torn bool, now time.Time) {
	switch {
	case c.n == 0:
		c.first = now
	case seq <= c.last:
		c.dup++
	case seq > c.last+1 && c.Mode == ring.Broadcast:
		c.gaps += seq - c.last - 1
	}
	if torn {
		c.torn++
	}
	c.n, c.prev = c.n+1, now
	c.last = max(c.last, seq)
}

// Report sums up the stream so far; missed is what the ring says the
// reader skipped, which counts as lost if it is more than the gaps.
func (c *Receiver) Report(missed uint64) Report {
	rep := Report{Frames: c.n, Lost: max(c.gaps, missed), Dup: c.dup, Torn: c.torn, Missed: missed}
	if c.n > 1 {
		rep.FPS = float64(c.n-1) / c.prev.Sub(c.first).Seconds()
	}
	rep.P50, rep.P99 = c.lat.quantile(0.5), c.lat.quantile(0.99)
	return rep
}

// maxLatencies bounds the samples a receiver keeps: 8 MiB, however long
// it runs.
const maxLatencies = 1 << 20

// latencySample collects frame latencies; past maxLatencies it keeps a
// uniform sample of all of them (reservoir sampling), so that quantiles
// stay fair and memory bounded.
type latencySample struct {
	xs   []time.Duration
	seen int
}

func (l *latencySample) add(d time.Duration) {
	l.seen++
	if len(l.xs) < maxLatencies {
		l.xs = append(l.xs, d)
		return
	}
	if j := rand.IntN(l.seen); j < maxLatencies {
		l.xs[j] = d
	}
}

// quantile returns the q-quantile in microseconds (nearest rank), 0 for
// no samples.
func (l *latencySample) quantile(q float64) float64 { return handoff.Percentile(l.xs, 100*q) }
