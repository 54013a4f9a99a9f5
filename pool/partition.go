package pool

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/ndshm/ndshm"
)

// A part is one partition: rows [lo, hi) along axis 0, the flat index of
// a 1-D array.
type part struct{ lo, hi int }

func (p part) String() string { return fmt.Sprintf("[%d, %d)", p.lo, p.hi) }

// split divides rows [0, n) into contiguous parts: k of them, whose sizes
// differ by at most one, or, with chunk > 0, parts of chunk rows (the
// last may be shorter). It never makes an empty part: with more workers
// than rows some workers get none, and an empty array has no parts.
func split(n, k, chunk int) []part {
	if n <= 0 {
		return nil
	}
	if chunk > 0 {
		parts := make([]part, 0, (n-1)/chunk+1)
		for lo := 0; lo < n; lo += chunk {
			parts = append(parts, part{lo, min(lo+chunk, n)})
		}
		return parts
	}
	k = max(1, min(k, n))
	parts := make([]part, k)
	q, r := n/k, n%k
	lo := 0
	for i := range parts {
		size := q
		if i < r {
			size++
		}
		parts[i] = part{lo, lo + size}
		lo += size
	}
	return parts
}

// checkParts proves what a map relies on, before anything is written:
// every part lies inside [0, n), and the parts are in order and do not
// overlap. Distinct rows along axis 0 of an array hold distinct elements,
// in C and Fortran order alike, so no two workers write the same element.
func checkParts(parts []part, n int) error {
	prev := 0
	for i, p := range parts {
		if p.lo < prev || p.lo > p.hi || p.hi > n {
			return fmt.Errorf("%w: partition %d %v overlaps another or leaves the array's %d rows", errRange, i, p, n)
		}
		prev = p.hi
	}
	return nil
}

// errRange marks a partition outside its array.
var errRange = errors.New("partition outside the array")

// rowsOf returns the extent of axis 0, the axis partitions split; a 0-d
// array has one row.
func rowsOf(s ndshm.Spec) int {
	if len(s.Shape) == 0 {
		return 1
	}
	return s.Shape[0]
}

// checkRange refuses rows [lo, hi) unless they lie inside b's array. It
// is checked where the rows are touched, in the worker, against the array
// as the worker sees it, whatever the sender believed.
func checkRange(b *ndshm.Block, lo, hi int) error {
	if n := rowsOf(b.Spec()); lo < 0 || lo > hi || hi > n {
		return fmt.Errorf("%w: rows [%d, %d) of an array of %d", errRange, lo, hi, n)
	}
	return nil
}

// view returns rows [lo, hi), already checked, of b's array.
func view[T Number](b *ndshm.Block, lo, hi int) (ndshm.Array[T], error) {
	a, err := ndshm.View[T](b)
	if err != nil || a.NDim() == 0 {
		return a, err
	}
	return a.Rows(lo, hi), nil
}

// eachRun calls f with each contiguous run of a's elements as a slice
// aliasing them, in memory order. A C-order partition is one run; a
// partition of a Fortran-order array is one run per column (axis 0 has
// stride 1). This is the package's one use of unsafe: a run is the
// elements from a.Addr(idx) along an axis of stride 1, which the view's
// bounds checks (Addr's) and that axis's extent keep inside the view.
func eachRun[T any](a ndshm.Array[T], f func([]T)) {
	if xs, ok := a.Flat(); ok {
		if len(xs) > 0 {
			f(xs)
		}
		return
	}
	forRuns(a.Shape(), a.Strides(), func(idx []int, n int) {
		f(unsafe.Slice(a.Addr(idx...), n))
	})
}

// eachRun2 is eachRun over two views of the same shape and strides, such
// as one partition of a source and of a destination: f gets runs of
// equal length at the same indices.
func eachRun2[T any](a, b ndshm.Array[T], f func(x, y []T)) {
	if !slices.Equal(a.Shape(), b.Shape()) || !slices.Equal(a.Strides(), b.Strides()) {
		panic("pool: source and destination partitions differ in layout")
	}
	xs, okA := a.Flat()
	ys, okB := b.Flat()
	if okA && okB {
		if len(xs) > 0 {
			f(xs, ys)
		}
		return
	}
	forRuns(a.Shape(), a.Strides(), func(idx []int, n int) {
		f(unsafe.Slice(a.Addr(idx...), n), unsafe.Slice(b.Addr(idx...), n))
	})
}

// forRuns calls f with the first index and length of each run of an
// array of this shape: along the axis of stride 1, or single elements if
// there is none.
func forRuns(shape, strides []int, f func(idx []int, n int)) {
	if slices.Contains(shape, 0) {
		return
	}
	k := slices.Index(strides, 1)
	n := 1
	if k >= 0 {
		n = shape[k]
	}
	idx := make([]int, len(shape))
	for {
		f(idx, n)
		// Advance an odometer over every axis but k, fastest first.
		j := 0
		for ; j < len(idx); j++ {
			if j == k {
				continue
			}
			if idx[j]++; idx[j] < shape[j] {
				break
			}
			idx[j] = 0
		}
		if j == len(idx) {
			return
		}
	}
}
