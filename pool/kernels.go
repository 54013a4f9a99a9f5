package pool

import "math"

// The built-in maps' loops. Parameters were checked before any task ran
// (builtin.go): for integer arrays they are whole numbers in range, so
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
