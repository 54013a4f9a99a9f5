package pool

import (
	"slices"
	"unsafe"

	"github.com/ndshm/ndshm"
)

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
