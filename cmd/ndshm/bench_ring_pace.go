package main

import (
	"time"
)

// An rbenchPacer says when a run's writer sends its frames and when it
// stops: at full speed, with a gap after each frame (for readers to fall
// asleep, or to spin), or at a fixed rate.
type rbenchPacer struct {
	d      time.Duration // send for at least this long
	min    int           // and at least this many frames
	max    int           // but never more than this many, if not 0
	gap    time.Duration // after each frame
	busy   bool          // poll through the gap rather than sleep
	period time.Duration // or from one frame's start to the next
	sent   int

	start, until, lastAt time.Time
}

func (p *rbenchPacer) begin() {
	p.start, p.sent = time.Now(), 0
	p.until = p.start.Add(p.d)
}

// last counts a frame sent and reports whether it is the run's last.
func (p *rbenchPacer) last() bool {
	p.sent++
	p.lastAt = time.Now()
	return p.max > 0 && p.sent >= p.max || p.sent >= p.min && !p.lastAt.Before(p.until)
}

// rate is the frames per second sent from the first frame to the last.
func (p *rbenchPacer) rate() float64 {
	if p.sent < 2 {
		return 0
	}
	return float64(p.sent-1) / p.lastAt.Sub(p.start).Seconds()
}

// wait waits before the next frame. It polls through a busy gap
// without yielding: a yield hands the CPU to whatever else runs, for far
// longer than the gap, and spinning readers would be asleep by the time
// the next frame comes.
func (p *rbenchPacer) wait() {
	switch {
	case p.period > 0:
		time.Sleep(time.Until(p.start.Add(time.Duration(p.sent) * p.period)))
	case p.busy:
		for end := time.Now().Add(p.gap); time.Now().Before(end); {
		}
	case p.gap > 0:
		time.Sleep(p.gap)
	}
}
