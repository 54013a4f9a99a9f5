package gonum_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	ndgonum "github.com/ndshm/ndshm/gonum"
	"github.com/ndshm/ndshm/internal/shmtest"
	"gonum.org/v1/gonum/mat"
)

func TestMain(m *testing.M) { shmtest.Main(m, nil) }

func create(t *testing.T, shape []int, fortran bool) (*ndshm.Block, ndshm.Array[float64]) {
	t.Helper()
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: shape, Fortran: fortran})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	a, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	return b, a
}

func TestDenseSharesMemory(t *testing.T) {
	_, a := create(t, []int{3, 4}, false)
	for i := range 3 {
		for j := range 4 {
			a.Set(float64(10*i+j), i, j)
		}
	}
	m, err := ndgonum.Dense(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for j := range 4 {
			if m.At(i, j) != a.At(i, j) {
				t.Fatalf("m[%d,%d] = %v, array has %v", i, j, m.At(i, j), a.At(i, j))
			}
		}
	}
	m.Set(2, 1, -5)
	if a.At(2, 1) != -5 {
		t.Fatal("a write through the matrix did not reach the array")
	}
	var p mat.Dense
	p.Mul(m, m.T()) // gonum's own routines work on shared memory
	if want := mat.Dot(m.RowView(0), m.RowView(0)); p.At(0, 0) != want {
		t.Fatalf("(m mᵀ)[0,0] = %v, want %v", p.At(0, 0), want)
	}
}

func TestDenseRowsView(t *testing.T) {
	_, a := create(t, []int{6, 2}, false)
	a.Set(7, 4, 1)
	m, err := ndgonum.Dense(a.Rows(3, 6))
	if err != nil {
		t.Fatal(err)
	}
	if r, c := m.Dims(); r != 3 || c != 2 || m.At(1, 1) != 7 {
		t.Fatalf("rows view: %dx%d, m[1,1] = %v", r, c, m.At(1, 1))
	}
}

func TestDenseRefuses(t *testing.T) {
	_, f := create(t, []int{3, 4}, true)
	_, v := create(t, []int{12}, false)
	_, e := create(t, []int{0, 4}, false)
	for name, a := range map[string]ndshm.Array[float64]{"fortran": f, "1-d": v, "empty": e} {
		if _, err := ndgonum.Dense(a); err == nil {
			t.Errorf("%s: Dense accepted it", name)
		}
	}
}

// The core package must stay free of gonum (and of everything but x/sys).
func TestCoreDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/ndshm/ndshm").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, ".") && !strings.HasPrefix(dep, "vendor/") &&
			!strings.HasPrefix(dep, "github.com/ndshm/ndshm") &&
			!strings.HasPrefix(dep, "golang.org/x/sys") {
			t.Errorf("core package depends on %s", dep)
		}
	}
}
