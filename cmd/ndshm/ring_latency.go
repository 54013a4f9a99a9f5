package main

import (
	"math/rand/v2"
	"time"

	"github.com/ndshm/ndshm/internal/handoff"
)

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
