package main

import (
	"context"
	"fmt"
	"math"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/elem"
)

// number is every Go element type stats reads directly. (float16 is
// converted to float32 first; bool is read as its uint8 bytes.)
type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// stats summarizes elements as float64, as NumPy's sum, min, max and
// mean would: a NaN anywhere makes sum, min, max and mean NaN.
type stats struct {
	count         int
	sum, min, max float64 // min and max are NaN for no elements
}

// mean is sum/count, NaN for no elements.
func (s stats) mean() float64 {
	if s.count == 0 {
		return math.NaN()
	}
	return s.sum / float64(s.count)
}

// summarize computes the stats of xs.
func summarize[T number](xs []T) stats {
	if len(xs) == 0 {
		return stats{min: math.NaN(), max: math.NaN()}
	}
	// min and max compare in T, exactly, converting once at the end; the
	// built-in min and max return NaN if either argument is NaN.
	lo, hi, sum := xs[0], xs[0], 0.0
	for _, x := range xs {
		sum += float64(x)
		lo, hi = min(lo, x), max(hi, x)
	}
	return stats{count: len(xs), sum: sum, min: float64(lo), max: float64(hi)}
}

// merge combines the stats of two runs of elements.
func merge(a, b stats) stats {
	switch {
	case a.count == 0:
		return b
	case b.count == 0:
		return a
	}
	return stats{count: a.count + b.count, sum: a.sum + b.sum, min: min(a.min, b.min), max: max(a.max, b.max)}
}

// chunk is how many elements are summarized between checks for ^C.
const chunk = 1 << 20

// summarizeChunks summarizes xs a chunk at a time with f, stopping when
// ctx is done.
func summarizeChunks[T any](ctx context.Context, xs []T, f func([]T) stats) (stats, error) {
	s := f(nil)
	for i := 0; i < len(xs); i += chunk {
		if err := ctx.Err(); err != nil {
			return stats{}, err
		}
		s = merge(s, f(xs[i:min(i+chunk, len(xs))]))
	}
	return s, nil
}

// summarizeBlock summarizes the elements of a block as viewed as T.
func summarizeBlock[T number](ctx context.Context, b *ndshm.Block) (stats, error) {
	xs, err := flat[T](b)
	if err != nil {
		return stats{}, err
	}
	return summarizeChunks(ctx, xs, summarize[T])
}

// summarizeHalf summarizes a float16 block, converting its bits.
func summarizeHalf(ctx context.Context, b *ndshm.Block) (stats, error) {
	xs, err := flat[uint16](b)
	if err != nil {
		return stats{}, err
	}
	buf := make([]float32, min(len(xs), chunk))
	return summarizeChunks(ctx, xs, func(bits []uint16) stats {
		fs := buf[:len(bits)]
		for i, h := range bits {
			fs[i] = float32(elem.HalfToFloat(h)) // exact: float32 holds every float16
		}
		return summarize(fs)
	})
}

// flat returns the block's elements in memory order.
func flat[T any](b *ndshm.Block) ([]T, error) {
	a, err := ndshm.View[T](b)
	if err != nil {
		return nil, err
	}
	xs, ok := a.Flat()
	if !ok {
		// A whole block is always contiguous; this would be a library bug.
		return nil, fmt.Errorf("block %s is not contiguous", b.Name())
	}
	return xs, nil
}
