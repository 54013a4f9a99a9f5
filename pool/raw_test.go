package pool_test

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/pool"
)

// rawBlock makes a headerless file in /dev/shm holding float64 i at
// flat index i, as Python's SharedMemory would, and opens it raw as s.
func rawBlock(t *testing.T, s ndshm.Spec) *ndshm.Block {
	t.Helper()
	name := shmtest.Name()
	data := make([]byte, s.Size()+100) // SharedMemory rounds sizes up
	for i := range s.Size() / 8 {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(float64(i)))
	}
	if err := os.WriteFile("/dev/shm/"+name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	b, err := ndshm.OpenRaw(name, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Worker processes work on raw blocks: the attach frame tells them the
// array, C or Fortran order, in place and out of place.
// Go, Python and mixed workers alike.
func TestRawBlockProcesses(t *testing.T) {
	pools := pythonPools(t)
	pools["go-2"] = newProcs(t, 2)
	for name, p := range pools {
		t.Run(name, func(t *testing.T) { checkRaw(t, p) })
	}
}

func checkRaw(t *testing.T, p *pool.Pool) {
	ctx := context.Background()
	for _, fortran := range []bool{false, true} {
		s := ndshm.Spec{DType: ndshm.Float64, Shape: []int{6, 5}, Fortran: fortran}
		b := rawBlock(t, s)
		st, err := p.Reduce(ctx, b, "sum")
		if err != nil || st.Sum != 435 || st.Count != 30 || st.Max != 29 {
			t.Fatalf("Reduce sum of a raw block (Fortran %v): %+v, %v", fortran, st, err)
		}
		dst := newBlock(t, s, false)
		if err := p.MapTo(ctx, b, dst, "affine=2,1"); err != nil {
			t.Fatal(err)
		}
		if err := p.Map(ctx, b, "scale=3"); err != nil {
			t.Fatal(err)
		}
		src, _ := ndshm.View[float64](b)
		out, _ := ndshm.View[float64](dst)
		xs, _ := src.Flat()
		ys, _ := out.Flat()
		for i := range xs {
			if xs[i] != 3*float64(i) || ys[i] != 2*float64(i)+1 {
				t.Fatalf("Fortran %v: element %d is %v in place and %v out of place", fortran, i, xs[i], ys[i])
			}
		}
		p.Release(b)
		p.Release(dst)
	}
}
