package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
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

// quantile returns the q-quantile (nearest rank) in microseconds, 0 for
// no samples.
func (l *latencySample) quantile(q float64) float64 {
	if len(l.xs) == 0 {
		return 0
	}
	slices.Sort(l.xs)
	i := int(math.Ceil(q*float64(len(l.xs)))) - 1
	return float64(l.xs[max(i, 0)]) / float64(time.Microsecond)
}
