package ndshm

import (
	"fmt"
	"slices"

	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/internal/npy"
)

// maxSize bounds a block's data: 2^46 bytes (64 TiB) is far beyond any
// /dev/shm and leaves headroom so size arithmetic never overflows.
const maxSize = 1 << 46

// A Spec describes an array: its element type, its shape and its memory
// order. The zero Fortran value means C order (last index fastest).
type Spec struct {
	DType   DType
	Shape   []int
	Fortran bool
}

// Len returns the number of elements, 1 for a 0-d array.
func (s Spec) Len() int {
	n, _ := product(s.Shape, 1)
	return n
}

// Size returns the number of data bytes.
func (s Spec) Size() int {
	n, _ := product(s.Shape, s.DType.size)
	return n
}

// check reports why s cannot describe a block.
func (s Spec) check() error {
	if s.DType.IsZero() {
		return fmt.Errorf("no dtype: %w", ErrDType)
	}
	if len(s.Shape) > npy.MaxDims {
		return fmt.Errorf("%d dimensions, at most %d allowed", len(s.Shape), npy.MaxDims)
	}
	if _, ok := product(s.Shape, s.DType.size); !ok {
		return fmt.Errorf("shape %s: negative or too large", human.Shape(s.Shape))
	}
	return nil
}

// strides returns the distance in elements between neighbours along each
// axis, as NumPy computes them for a contiguous array.
func (s Spec) strides() []int {
	st := make([]int, len(s.Shape))
	n := 1
	for k := range st {
		i := len(st) - 1 - k
		if s.Fortran {
			i = k
		}
		st[i] = n
		n *= max(s.Shape[i], 1)
	}
	return st
}

func (s Spec) header() npy.Header {
	return npy.Header{Descr: s.DType.descr(), Fortran: s.Fortran, Shape: slices.Clone(s.Shape)}
}

// String describes the array as Python's ndshm does: the dtype, the
// shape as NumPy prints it, and the order, as in "<f8 (1000, 1000) order
// C", "<i4 (5,) order C" or "<f8 () order C" for a scalar.
func (s Spec) String() string {
	order := "C"
	if s.Fortran {
		order = "F"
	}
	return fmt.Sprintf("%s %s order %s", s.DType, human.Shape(s.Shape), order)
}
