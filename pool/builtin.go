package pool

import (
	"fmt"
	"math"
	"strings"

	"github.com/ndshm/ndshm"
)

// builtins are the ops every pool has, and every worker: the same binary
// registers them in this package's init.
var builtins = []struct {
	name       string
	params     []string // their names, for messages
	idempotent bool
	readOnly   bool
	wholeInts  bool // on integer arrays every parameter must be a whole number in range
	check      func(p Params) error
}{
	{name: "scale", params: []string{"a"}, wholeInts: true},
	{name: "offset", params: []string{"b"}, wholeInts: true},
	{name: "affine", params: []string{"a", "b"}, wholeInts: true},
	{name: "sqrt"},
	{name: "square"},
	{name: "clip", params: []string{"lo", "hi"}, idempotent: true, wholeInts: true, check: checkClip},
	{name: "fill", params: []string{"v"}, idempotent: true, wholeInts: true},
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
		d := &opDef{name: b.name, idempotent: b.idempotent, readOnly: b.readOnly, exact: true,
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
					return fmt.Errorf("%s %s: %v", name, names[i], err)
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
