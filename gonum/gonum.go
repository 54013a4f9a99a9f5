// Package gonum adapts ndshm arrays to gonum's matrices, sharing memory:
// a *mat.Dense from Dense reads and writes the shared block in place.
// It is its own package so that ndshm itself depends on golang.org/x/sys
// alone.
package gonum

import (
	"errors"
	"fmt"

	"github.com/ndshm/ndshm"
	"gonum.org/v1/gonum/mat"
)

// Dense returns a matrix over the same memory as the 2-D, C-order array
// a: no copy is made, writes through either are seen by both (and by every
// process that maps the block), and the matrix is valid only while the
// block is open. Fortran-order data, empty arrays and non-contiguous views
// are refused: gonum stores matrices row-major and non-empty.
func Dense(a ndshm.Array[float64]) (*mat.Dense, error) {
	if a.NDim() != 2 {
		return nil, fmt.Errorf("gonum: %d-d array, want 2-d", a.NDim())
	}
	r, c := a.Dim(0), a.Dim(1)
	if r == 0 || c == 0 {
		return nil, errors.New("gonum: empty matrix")
	}
	data, ok := a.Flat()
	if !ok || (c > 1 && a.Strides()[1] != 1) {
		return nil, errors.New("gonum: array is not C-contiguous")
	}
	return mat.NewDense(r, c, data), nil
}
