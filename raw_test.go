package ndshm_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

// OpenRaw of a block that has an ndshm header never reads the header as
// data: a spec that agrees gets the block as Open gives it, any other
// spec an error naming both arrays.
func TestOpenRawHeadered(t *testing.T) {
	b := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}}, ndshm.Persistent())
	removeAtEnd(t, b.Name())
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = 1
	}
	f8, f4 := ndshm.Float64, ndshm.Float32
	for _, tc := range []struct {
		what string
		spec ndshm.Spec
		says string // "" for success
	}{
		{"the block's own spec", ndshm.Spec{DType: f8, Shape: []int{10}}, ""},
		{"F order of a 1-d array", ndshm.Spec{DType: f8, Shape: []int{10}, Fortran: true}, ""},
		{"another dtype", ndshm.Spec{DType: f4, Shape: []int{10}}, "block holds <f8 (10,) order C (its ndshm header says so), not <f4 (10,) order C"},
		{"another shape", ndshm.Spec{DType: f8, Shape: []int{2, 5}}, "not <f8 (2, 5) order C"},
		{"fewer elements", ndshm.Spec{DType: f8, Shape: []int{4}}, "not <f8 (4,) order C"},
	} {
		r, err := ndshm.OpenRaw(b.Name(), tc.spec)
		if tc.says != "" {
			if r != nil {
				r.Close()
			}
			if !errors.Is(err, ndshm.ErrDType) || !strings.Contains(err.Error(), tc.says) ||
				!strings.HasPrefix(err.Error(), "open "+b.Name()+": ") {
				t.Errorf("%s: %v; want ErrDType saying %q", tc.what, err, tc.says)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.what, err)
			continue
		}
		info := r.Info()
		v, verr := ndshm.View[float64](r)
		sum := 0.0
		if verr == nil {
			ys, _ := v.Flat()
			for _, y := range ys {
				sum += y
			}
		}
		if info.Kind != ndshm.KindArray || info.DataOffset != 4096 || sum != 10 {
			t.Errorf("%s: kind %v, data at %d, sum %v; want the headered array, sum 10", tc.what, info.Kind, info.DataOffset, sum)
		}
		r.Close()
	}
}

// A file that ends in ndshm's trailer but does not validate is a damaged
// block, never raw data.
func TestOpenRawDamaged(t *testing.T) {
	b := tBlock(t, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{100}}, ndshm.Persistent())
	removeAtEnd(t, b.Name())
	// Closed first: an open reuses this process's mapping, and with it
	// the header validated then, rather than reading it again.
	b.Close()
	f, err := os.OpenFile(shmFile(b.Name()), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("garbage!"), 0); err != nil { // the .npy magic
		t.Fatal(err)
	}
	r, err := ndshm.OpenRaw(b.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{100}})
	if r != nil {
		r.Close()
	}
	if !errors.Is(err, ndshm.ErrFormat) || !strings.Contains(err.Error(), "not read raw") {
		t.Errorf("OpenRaw of a damaged block: %v; want ErrFormat", err)
	}
}
