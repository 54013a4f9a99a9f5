package ndshm_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// python runs script with /usr/bin/python3 and the package ndshm
// imported, passing args as sys.argv[1:], and decodes its last stdout line
// as JSON into out.
func python(t *testing.T, out any, script string, args ...string) {
	t.Helper()
	prelude := "import sys, json, numpy as np\nimport ndshm\n"
	cmd := shmtest.PythonCommand(t, append([]string{"-c", prelude + script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	if out != nil {
		if err := json.Unmarshal(lines[len(lines)-1], out); err != nil {
			t.Fatalf("python printed %q: %v", stdout, err)
		}
	}
}

// pattern is the value both languages put at flat C-order index i.
func pattern(i int) float64 { return float64(i*7%1000) - 250.5 }

// The Go side fills by index tuple; Python reads the array through two
// doors (stock np.load and the helper) and reports it in C order, with
// its dtype, shape and layout.
func TestGoCreatesNumPyReads(t *testing.T) {
	for _, tc := range []struct {
		shape   []int
		fortran bool
	}{{[]int{6}, false}, {[]int{3, 4}, false}, {[]int{3, 4}, true}, {[]int{2, 3, 4}, true}, {[]int{0, 3}, false}, {[]int{}, false}} {
		t.Run(fmt.Sprint(tc.shape, tc.fortran), func(t *testing.T) {
			name := shmtest.Name()
			b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Float64, Shape: tc.shape, Fortran: tc.fortran})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			a, _ := ndshm.View[float64](b)
			fillC(a)
			var got struct {
				Load, Attach []float64
				DType        string
				Shape        []int
				Fortran      bool
			}
			python(t, &got, `a = np.load('/dev/shm/' + sys.argv[1], mmap_mode='r+')
b = ndshm.attach(sys.argv[1])
assert b.size == 0 or b.ctypes.data % 4096 == 0  # data is page-aligned
print(json.dumps({'Load': a.ravel(order='C').tolist(), 'Attach': b.ravel(order='C').tolist(),
  'DType': a.dtype.str, 'Shape': list(a.shape), 'Fortran': bool(a.flags.f_contiguous and not a.flags.c_contiguous)}))`, name)
			want := make([]float64, a.Len())
			for i := range want {
				want[i] = pattern(i)
			}
			if !slices.Equal(got.Load, want) || !slices.Equal(got.Attach, want) {
				t.Fatalf("numpy read\n load   %v\n attach %v\nwant     %v", got.Load, got.Attach, want)
			}
			if got.DType != "<f8" || !slices.Equal(got.Shape, tc.shape) || got.Fortran != (tc.fortran && len(tc.shape) > 1 && a.Len() > 0) {
				t.Fatalf("numpy sees %s %v fortran=%v", got.DType, got.Shape, got.Fortran)
			}
		})
	}
}

// fillC sets every element of a to pattern(its flat C-order index).
func fillC(a ndshm.Array[float64]) {
	idx := make([]int, a.NDim())
	for i := range a.Len() {
		r := i
		for k := len(idx) - 1; k >= 0; k-- {
			idx[k] = r % a.Dim(k)
			r /= a.Dim(k)
		}
		a.Set(pattern(i), idx...)
	}
}

// NumPy writes through both doors; Go sees the writes in place, and the
// block outlives the Python process that attached to it.
func TestNumPyWritesGoSees(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Int32, Shape: []int{4, 5}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	python(t, nil, `a = np.load('/dev/shm/' + sys.argv[1], mmap_mode='r+')
a[0, :] = np.arange(5)
b = ndshm.attach(sys.argv[1])
b[3, 4] = -77
import multiprocessing.shared_memory  # even with it imported, nothing unlinks
print('null')`, name)
	a, _ := ndshm.View[int32](b)
	for j := range 5 {
		if a.At(0, j) != int32(j) {
			t.Fatalf("a[0,%d] = %d after numpy wrote %d", j, a.At(0, j), j)
		}
	}
	if a.At(3, 4) != -77 {
		t.Fatalf("a[3,4] = %d after the helper wrote -77", a.At(3, 4))
	}
	if _, err := ndshm.Stat(name); err != nil {
		t.Fatalf("the block did not survive python attaching to it: %v", err)
	}
}

// Blocks the helper creates are full ndshm blocks: Go opens them by name
// with their dtype, shape and order, and reads NumPy's values.
func TestNumPyCreatesGoReads(t *testing.T) {
	for _, tc := range []struct {
		dtype string
		order string
		want  ndshm.DType
	}{{"<f8", "C", ndshm.Float64}, {"<f8", "F", ndshm.Float64}, {"<i2", "C", ndshm.Int16}, {"|u1", "F", ndshm.Uint8}} {
		t.Run(tc.dtype+tc.order, func(t *testing.T) {
			name := shmtest.Name()
			python(t, nil, `a = ndshm.create(sys.argv[1], (3, 4), sys.argv[2], order=sys.argv[3], persistent=True)
a[...] = np.arange(12).reshape(3, 4)
print('null')`, name, tc.dtype, tc.order)
			defer ndshm.Unlink(name)
			b, err := ndshm.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			s := b.Spec()
			info := b.Info()
			if !s.DType.Equal(tc.want) || !slices.Equal(s.Shape, []int{3, 4}) || s.Fortran != (tc.order == "F") || !info.Persistent {
				t.Fatalf("Go sees %v persistent=%v", s, info.Persistent)
			}
			for i := range 3 {
				for j := range 4 {
					if got := elem(t, b, i, j); got != float64(4*i+j) {
						t.Fatalf("[%d,%d] = %v, numpy wrote %d", i, j, got, 4*i+j)
					}
				}
			}
		})
	}
}

// elem reads b[i, j] as float64 through the view for b's dtype.
func elem(t *testing.T, b *ndshm.Block, i, j int) float64 {
	switch b.DType().String() {
	case "<f8":
		a, _ := ndshm.View[float64](b)
		return a.At(i, j)
	case "<i2":
		a, _ := ndshm.View[int16](b)
		return float64(a.At(i, j))
	case "|u1":
		a, _ := ndshm.View[uint8](b)
		return float64(a.At(i, j))
	}
	t.Fatalf("unexpected dtype %v", b.DType())
	return 0
}

// A headerless block from plain multiprocessing.shared_memory opens raw.
func TestRawSharedMemoryBlock(t *testing.T) {
	name := shmtest.Name()
	python(t, nil, `from multiprocessing import shared_memory, resource_tracker
shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=6*8)
np.ndarray((2, 3), dtype='<i8', buffer=shm.buf)[...] = [[1, 2, 3], [4, 5, 6]]
resource_tracker.unregister(shm._name, 'shared_memory')  # leave it for Go
shm.close()
print('null')`, name)
	defer ndshm.Unlink(name)
	if _, err := ndshm.Open(name); !errors.Is(err, ndshm.ErrFormat) {
		t.Fatalf("Open of a headerless block: %v, want ErrFormat", err)
	}
	b, err := ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Int64, Shape: []int{2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[int64](b)
	if got, _ := a.Flat(); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("raw block reads %v", got)
	}
	if _, err := ndshm.OpenRaw(name, ndshm.Spec{DType: ndshm.Int64, Shape: []int{2, 4}}); !errors.Is(err, ndshm.ErrFormat) {
		t.Fatalf("OpenRaw with a spec larger than the file: %v", err)
	}
}

// Save and Load go through .npy files NumPy wrote and reads; cp of a
// block file is a valid .npy file too.
func TestNpyFiles(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.npy")
	python(t, nil, `np.save(sys.argv[1], np.asfortranarray(np.arange(24, dtype='<u2').reshape(2, 3, 4)))
print('null')`, src)
	name := shmtest.Name()
	b, err := ndshm.Load(src, name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[uint16](b)
	if a.At(1, 2, 3) != 23 || a.At(0, 1, 2) != 6 || !b.Spec().Fortran {
		t.Fatalf("loaded %v: a[1,2,3]=%d a[0,1,2]=%d", b.Spec(), a.At(1, 2, 3), a.At(0, 1, 2))
	}
	out := filepath.Join(dir, "out.npy")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.WriteTo(f); err != nil || f.Close() != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("/dev/shm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "cp.npy")
	if err := os.WriteFile(cp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var same []bool
	python(t, &same, `a = np.load(sys.argv[1])
print(json.dumps([np.array_equal(a, np.load(p)) and np.load(p).flags.f_contiguous for p in sys.argv[2:]]))`, src, out, cp)
	if !slices.Equal(same, []bool{true, true}) {
		t.Fatalf("numpy reads saved / copied files as equal: %v", same)
	}
	if _, err := ndshm.Load(filepath.Join(dir, "missing.npy"), shmtest.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v", err)
	}
}
