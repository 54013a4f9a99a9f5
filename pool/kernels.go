package pool

import (
	"fmt"
	"math"
	"strings"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/elem"
)

// builtins are the ops every pool has, and every worker: the same binary
// registers them in this package's init.
var builtins = []struct {
	name       string
	params     []string // their names, for messages
	idempotent bool
	readOnly   bool
	overwrites bool // writes every element without reading it
	wholeInts  bool // on integer arrays every parameter must be a whole number in range
	check      func(p Params) error
}{
	{name: "scale", params: []string{"a"}, wholeInts: true},
	{name: "offset", params: []string{"b"}, wholeInts: true},
	{name: "affine", params: []string{"a", "b"}, wholeInts: true},
	{name: "sqrt"},
	{name: "square"},
	{name: "clip", params: []string{"lo", "hi"}, idempotent: true, wholeInts: true, check: checkClip},
	{name: "fill", params: []string{"v"}, idempotent: true, overwrites: true, wholeInts: true},
	{name: "noop", idempotent: true},
	{name: "sum", readOnly: true},
	{name: "min", readOnly: true},
	{name: "max", readOnly: true},
	{name: "mean", readOnly: true},
	{name: "count", readOnly: true},
	{name: "histogram", params: []string{"bins", "lo", "hi"}, readOnly: true, check: checkHistogram},
}

func init() {
	for _, b := range builtins {
		d := &opDef{name: b.name, idempotent: b.idempotent, readOnly: b.readOnly, overwrites: b.overwrites, exact: true,
			impls: make(map[elemKey]impl)}
		d.check = builtinCheck(b.name, b.params, b.wholeInts, b.check)
		if b.name == "histogram" {
			d.bins = func(p Params) int { return int(p[0]) }
		}
		registry.ops[b.name] = d
	}
	addKernels[float64]()
	addKernels[float32]()
	addKernels[int8]()
	addKernels[int16]()
	addKernels[int32]()
	addKernels[int64]()
	addKernels[uint8]()
	addKernels[uint16]()
	addKernels[uint32]()
	addKernels[uint64]()
	addConverted()
}

// addKernels registers the built-ins' loops for element type T.
func addKernels[T Number]() {
	ks := map[string]kernel[T]{
		"scale": scaleK[T], "offset": offsetK[T], "affine": affineK[T], "square": squareK[T],
		"clip": clipK[T], "fill": fillK[T], "noop": noopK[T], "count": countK[T],
		"sum": statsK[T], "min": statsK[T], "max": statsK[T], "mean": statsK[T],
		"histogram": histK[T],
	}
	key := keyOf[T]()
	if key.kind == 'f' {
		ks["sqrt"] = sqrtK[T]
	}
	for name, k := range ks {
		registry.ops[name].impls[key] = kernelImpl(k)
	}
}

// builtinCheck returns a built-in's parameter check: their number, then
// for integer arrays their range, then the op's own rule.
func builtinCheck(name string, names []string, wholeInts bool, check func(Params) error) func(Params, ndshm.DType) error {
	return func(p Params, dt ndshm.DType) error {
		if len(p) != len(names) {
			if len(names) == 0 {
				return fmt.Errorf("%s takes no parameters", name)
			}
			return fmt.Errorf("%s takes %d parameter(s), %s=%s", name, len(names), name, strings.Join(names, ","))
		}
		if wholeInts && (dt.Kind() == 'i' || dt.Kind() == 'u') {
			for i, v := range p {
				if err := checkWhole(v, dt); err != nil {
					return fmt.Errorf("%s %s: %w", name, names[i], err)
				}
			}
		}
		if check != nil {
			return check(p)
		}
		return nil
	}
}

// checkWhole checks that v is exactly an element of the integer dtype dt.
func checkWhole(v float64, dt ndshm.DType) error {
	bits := 8 * dt.Size()
	lo, end := 0.0, math.Ldexp(1, bits) // [lo, end)
	if dt.Kind() == 'i' {
		lo, end = -math.Ldexp(1, bits-1), math.Ldexp(1, bits-1)
	}
	if v != math.Trunc(v) || v < lo || v >= end {
		return fmt.Errorf("%g is not a whole number in the range of %s", v, dt)
	}
	return nil
}

func checkClip(p Params) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || p[0] > p[1] {
		return fmt.Errorf("clip needs lo <= hi, got %g, %g", p[0], p[1])
	}
	return nil
}

func checkHistogram(p Params) error {
	bins, lo, hi := p[0], p[1], p[2]
	if bins != math.Trunc(bins) || bins < 1 || bins > MaxBins {
		return fmt.Errorf("histogram bins must be a whole number from 1 to %d, got %g", MaxBins, bins)
	}
	if !(lo < hi) || math.IsInf(hi-lo, 0) {
		return fmt.Errorf("histogram needs finite lo < hi, got %g, %g", lo, hi)
	}
	return nil
}

// A kernel is a built-in op's loop over one contiguous run of elements.
// Reductions add to s; maps write xs.
type kernel[T Number] func(xs []T, p Params, s *Stats)

// fuseRun is how many elements an out-of-place kernel copies before it
// transforms them, while they are still in cache.
const fuseRun = 2048

// kernelImpl runs a kernel over every run of a partition. Out of place,
// it copies a short stretch of the source and transforms it in dst while
// it is in cache, instead of one pass to copy and another to transform.
func kernelImpl[T Number](k kernel[T]) impl {
	return func(src, dst *ndshm.Block, lo, hi int, p Params) (Stats, error) {
		a, err := view[T](src, lo, hi)
		if err != nil {
			return Stats{}, err
		}
		s := emptyStats()
		if dst == nil {
			eachRun(a, func(xs []T) { k(xs, p, &s) })
		} else {
			d, err := view[T](dst, lo, hi)
			if err != nil {
				return Stats{}, err
			}
			eachRun2(a, d, func(x, y []T) {
				for i := 0; i < len(x); i += fuseRun {
					j := min(i+fuseRun, len(x))
					copy(y[i:j], x[i:j])
					k(y[i:j], p, &s)
				}
			})
		}
		s.Count = int64(a.Len())
		return s, nil
	}
}

// The built-in maps' loops. Parameters were checked before any task ran
// (builtinCheck): for integer arrays they are whole numbers in range, so
// the conversions are exact. Integer arithmetic wraps, as NumPy's does.

func scaleK[T Number](xs []T, p Params, _ *Stats) {
	a := T(p[0])
	for i, x := range xs {
		xs[i] = x * a
	}
}

func offsetK[T Number](xs []T, p Params, _ *Stats) {
	b := T(p[0])
	for i, x := range xs {
		xs[i] = x + b
	}
}

// affineK computes a·x + b in two roundings, as NumPy's a*x+b does: the
// conversion forbids the compiler a fused multiply-add.
func affineK[T Number](xs []T, p Params, _ *Stats) {
	a, b := T(p[0]), T(p[1])
	for i, x := range xs {
		xs[i] = T(x*a) + b
	}
}

// sqrtK is registered for floats only. float32 goes through float64,
// which rounds it correctly.
func sqrtK[T Number](xs []T, _ Params, _ *Stats) {
	for i, x := range xs {
		xs[i] = T(math.Sqrt(float64(x)))
	}
}

// clipK leaves NaN alone, as NumPy does.
func clipK[T Number](xs []T, p Params, _ *Stats) {
	lo, hi := T(p[0]), T(p[1])
	for i, x := range xs {
		if x < lo {
			xs[i] = lo
		} else if x > hi {
			xs[i] = hi
		}
	}
}

func fillK[T Number](xs []T, p Params, _ *Stats) {
	v := T(p[0])
	for i := range xs {
		xs[i] = v
	}
}

func squareK[T Number](xs []T, _ Params, _ *Stats) {
	for i, x := range xs {
		xs[i] = x * x
	}
}

// noopK does nothing: the empty op that measures what a task costs.
func noopK[T Number](_ []T, _ Params, _ *Stats) {}

// countK reads nothing: the count is the partition's size. Sum is 0, and
// min and max, unknown, are NaN.
func countK[T Number](_ []T, _ Params, s *Stats) { s.Min, s.Max = math.NaN(), math.NaN() }

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

// addConverted registers the built-in reductions for the two dtypes that
// have no Go type of their own, bool and float16, so that every numeric
// dtype reduces with the same loops: their elements are converted to
// float64, exactly, a stretch at a time, and the float64 kernels run on
// that. Maps do not run on them.
func addConverted() {
	for _, name := range []string{"sum", "min", "max", "mean", "histogram"} {
		registry.ops[name].impls[elemKey{'b', 1}] = convImpl(boolsToFloats, statsOrHist(name))
		registry.ops[name].impls[elemKey{'f', 2}] = convImpl(halvesToFloats, statsOrHist(name))
	}
	registry.ops["count"].impls[elemKey{'b', 1}] = kernelImpl(countK[uint8]) // reads nothing
	registry.ops["count"].impls[elemKey{'f', 2}] = kernelImpl(countK[uint16])
}

func statsOrHist(name string) kernel[float64] {
	if name == "histogram" {
		return histK[float64]
	}
	return statsK[float64]
}

// convImpl runs the float64 kernel k over an array whose elements Go
// sees as S (ndshm.View's type for the dtype: uint8 for bool, uint16 for
// float16). conv converts a stretch of elements, up to fuseRun, into
// float64s while they are in cache, or refuses them: then the partition
// fails with its error. Only reductions use it: dst is always nil.
func convImpl[S Number](conv func(dst []float64, src []S) error, k kernel[float64]) impl {
	return func(src, _ *ndshm.Block, lo, hi int, p Params) (Stats, error) {
		a, err := view[S](src, lo, hi)
		if err != nil {
			return Stats{}, err
		}
		s := emptyStats()
		buf := make([]float64, min(fuseRun, a.Len()))
		eachRun(a, func(xs []S) {
			for i := 0; i < len(xs) && err == nil; i += fuseRun {
				fs := buf[:min(fuseRun, len(xs)-i)]
				if err = conv(fs, xs[i:]); err == nil {
					k(fs, p, &s)
				}
			}
		})
		if err != nil {
			return Stats{}, err
		}
		s.Count = int64(a.Len())
		return s, nil
	}
}

// boolsToFloats converts bools, as bytes, to 0 and 1. Any other byte is
// refused, as ndshm.View[bool] refuses it, rather than counted as true.
func boolsToFloats(dst []float64, src []uint8) error {
	for i, x := range src[:len(dst)] {
		if x > 1 {
			return fmt.Errorf("%w: a bool array holds the byte %d, not 0 or 1", ndshm.ErrDType, x)
		}
		dst[i] = float64(x)
	}
	return nil
}

// halvesToFloats converts float16s, as their bits, to float64s.
func halvesToFloats(dst []float64, src []uint16) error {
	for i, h := range src[:len(dst)] {
		dst[i] = elem.HalfToFloat(h)
	}
	return nil
}
