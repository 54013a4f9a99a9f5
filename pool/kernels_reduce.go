package pool

import "math"

// statsK adds a run's sum, min and max, in float64, to s. As in NumPy, a
// NaN element makes min and max NaN (and the sum).
func statsK[T Number](xs []T, _ Params, s *Stats) {
	var s0, s1 float64 // two sums: half the dependency chain
	lo, hi := math.Inf(1), math.Inf(-1)
	nan := false
	i := 0
	for ; i+1 < len(xs); i += 2 {
		a, b := float64(xs[i]), float64(xs[i+1])
		s0 += a
		s1 += b
		lo, hi = min2(lo, a, b), max2(hi, a, b)
		nan = nan || a != a || b != b
	}
	if i < len(xs) {
		a := float64(xs[i])
		s0 += a
		lo, hi = min2(lo, a, a), max2(hi, a, a)
		nan = nan || a != a
	}
	if nan {
		lo, hi = math.NaN(), math.NaN()
	}
	s.Sum += s0 + s1
	s.Min, s.Max = min(s.Min, lo), max(s.Max, hi)
}

// min2 and max2 compare plainly: NaN is tracked apart, which keeps the
// loop free of the builtins' NaN and signed-zero handling.
func min2(m, a, b float64) float64 {
	if a < m {
		m = a
	}
	if b < m {
		m = b
	}
	return m
}

func max2(m, a, b float64) float64 {
	if a > m {
		m = a
	}
	if b > m {
		m = b
	}
	return m
}

// histK counts the elements in [lo, hi] into bins equal bins, exactly as
// numpy.histogram(x, bins, range=(lo, hi)) does, including its
// corrections at bin edges; elements outside the range, and NaN, are not
// counted.
func histK[T Number](xs []T, p Params, s *Stats) {
	bins, lo, hi := int(p[0]), p[1], p[2]
	if s.Hist == nil {
		s.Hist = make([]uint64, bins)
	}
	width, step := hi-lo, (hi-lo)/float64(bins)
	edge := func(i int) float64 { // numpy.linspace(lo, hi, bins+1)[i]
		if i == bins {
			return hi
		}
		return float64(i)*step + lo
	}
	for _, x := range xs {
		f := float64(x)
		if !(f >= lo && f <= hi) {
			continue
		}
		i := int((f - lo) / width * float64(bins))
		if i == bins {
			i--
		}
		if f < edge(i) {
			i--
		} else if i != bins-1 && f >= edge(i+1) {
			i++
		}
		s.Hist[i]++
	}
}
