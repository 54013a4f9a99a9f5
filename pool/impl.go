package pool

import (
	"errors"
	"fmt"

	"github.com/ndshm/ndshm"
)

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

// userImpl adapts a registered function. Out of place, it copies the
// partition into dst and runs fn there.
func userImpl[T Number](fn func(ndshm.Array[T], Params) (Stats, error)) impl {
	return func(src, dst *ndshm.Block, lo, hi int, p Params) (Stats, error) {
		a, err := view[T](src, lo, hi)
		if err != nil {
			return Stats{}, err
		}
		if dst != nil {
			d, err := view[T](dst, lo, hi)
			if err != nil {
				return Stats{}, err
			}
			eachRun2(a, d, func(x, y []T) { copy(y, x) })
			a = d
		}
		return fn(a, p)
	}
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
