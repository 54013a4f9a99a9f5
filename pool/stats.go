package pool

import (
	"fmt"
	"math"
	"time"
)

// Stats are an op's small result for one partition, and Reduce's for a
// whole array: what crosses back from a worker instead of data. Which
// fields mean something depends on the op: the built-in reductions fill
// Count, Sum, Min and Max (histogram fills Count and Hist); map ops only
// Count, the number of elements they visited.
type Stats struct {
	Count    int64   // elements visited
	Sum      float64 // computed in float64 whatever the dtype
	Min, Max float64 // NaN if any element is NaN, or if Count is 0 after Reduce
	Hist     []uint64
	// Elapsed is the time spent in the op, summed over partitions: with
	// the wall-clock time of a call it shows what the rest cost.
	Elapsed time.Duration
}

// Mean returns Sum / Count, NaN for no elements.
func (s Stats) Mean() float64 {
	if s.Count == 0 {
		return math.NaN()
	}
	return s.Sum / float64(s.Count)
}

// emptyStats is the identity of merge for the reductions: min and max of
// nothing yet.
func emptyStats() Stats { return Stats{Min: math.Inf(1), Max: math.Inf(-1)} }

// merge adds t, one partition's stats, to s. Min and Max come only from
// partitions that visited elements; histograms must agree in length.
func (s *Stats) merge(t Stats) error {
	if t.Hist != nil {
		if s.Hist == nil {
			s.Hist = make([]uint64, len(t.Hist))
		}
		if len(s.Hist) != len(t.Hist) {
			return fmt.Errorf("histograms of %d and %d bins", len(s.Hist), len(t.Hist))
		}
		for i, c := range t.Hist {
			s.Hist[i] += c
		}
	}
	if t.Count > 0 {
		s.Min, s.Max = min(s.Min, t.Min), max(s.Max, t.Max) // NaN wins, as in NumPy
	}
	s.Count += t.Count
	s.Sum += t.Sum
	s.Elapsed += t.Elapsed
	return nil
}

// finish makes the min and max of no elements NaN, as NumPy's nanmin
// warns and ndshm stats prints.
func (s *Stats) finish() {
	if s.Count == 0 {
		s.Min, s.Max = math.NaN(), math.NaN()
	}
}
