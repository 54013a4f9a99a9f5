package ndshm_test

import (
	"testing"

	"github.com/ndshm/ndshm"
)

// Spec.String prints shapes as NumPy does, and as Python's ndshm
// describes a block.
func TestSpecString(t *testing.T) {
	for _, c := range []struct {
		s    ndshm.Spec
		want string
	}{
		{ndshm.Spec{DType: ndshm.Float64, Shape: []int{1000, 1000}}, "<f8 (1000, 1000) order C"},
		{ndshm.Spec{DType: ndshm.Int32, Shape: []int{5}}, "<i4 (5,) order C"},
		{ndshm.Spec{DType: ndshm.Float64, Shape: []int{}}, "<f8 () order C"},
		{ndshm.Spec{DType: ndshm.Float64}, "<f8 () order C"},
		{ndshm.Spec{DType: ndshm.Uint8, Shape: []int{2, 0, 3}, Fortran: true}, "|u1 (2, 0, 3) order F"},
	} {
		if got := c.s.String(); got != c.want {
			t.Errorf("%#v: String() = %q, want %q", c.s.Shape, got, c.want)
		}
	}
}
