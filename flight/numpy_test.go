package flight_test

import (
	"context"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestPullNumPy pulls blocks and has NumPy check the copies: same dtype,
// shape and order as the source, the same bytes, through np.load of the
// pulled block and through the Python package's attach.
func TestPullNumPy(t *testing.T) {
	addr := serve(t, &flight.Server{Chunk: 64 << 10})
	c := dial(t, addr, flight.DialOptions{Chunk: 64 << 10})
	for _, s := range []ndshm.Spec{
		{DType: ndshm.Float64, Shape: []int{300, 7, 5}},
		{DType: mustDType(t, "<c8"), Shape: []int{40, 30}, Fortran: true},
		{DType: mustDType(t, "[('t', '<M8[us]'), ('v', '<f4', (2,))]"), Shape: []int{1000}},
	} {
		t.Run(s.String(), func(t *testing.T) {
			src := create(t, s)
			local := shmtest.Name()
			b, err := c.Pull(context.Background(), src.Name(), local)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			out, err := shmtest.PythonCommand(t, "-c", `import sys, numpy as np, ndshm
import os
d = os.environ.get('NDSHM_DIR') or '/dev/shm'
a = np.load(d + '/' + sys.argv[1], mmap_mode='r')
b = np.load(d + '/' + sys.argv[2], mmap_mode='r')
c = ndshm.attach(sys.argv[2], readonly=True)
for x in (b, c):
    assert x.dtype == a.dtype and x.shape == a.shape, (x.dtype, x.shape, a.dtype, a.shape)
    assert x.flags.f_contiguous == a.flags.f_contiguous and x.flags.c_contiguous == a.flags.c_contiguous
    assert x.tobytes(order='A') == a.tobytes(order='A'), 'bytes differ'
print('ok', a.dtype, a.shape)`, src.Name(), local).CombinedOutput()
			if err != nil {
				t.Fatalf("NumPy: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}
