package ndshm_test

import (
	"regexp"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// map_partitions over a Go block: its own pool (3 workers) doubles each
// contiguous chunk of rows in place; a caller's ProcessPoolExecutor
// (spawn) adds 1 to a strided column in 4 chunks. Go sees both; the
// results come back in chunk order; a plain ndarray is refused.
func TestPythonMapPartitions(t *testing.T) {
	b := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10, 3}})
	a, _ := ndshm.View[float64](b)
	for i := range 10 {
		for j := range 3 {
			a.Set(float64(i*3+j), i, j)
		}
	}
	var got struct {
		Rows    [][2]float64
		Column  []int
		Refused string
	}
	pythonFile(t, &got, `import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor

def double(chunk):
    chunk *= 2
    return len(chunk), float(chunk.sum())

def add1(col):
    col += 1
    return len(col)

if __name__ == '__main__':
    a = ndshm.attach(sys.argv[1])
    rows = ndshm.map_partitions(double, a, workers=3)
    with ProcessPoolExecutor(2, mp_context=mp.get_context('spawn')) as ex:
        column = ndshm.map_partitions(add1, a[:, 1], pool=ex, chunks=4)
    try:
        ndshm.map_partitions(add1, np.zeros(4), workers=2)
        refused = 'no error'
    except TypeError as e:
        refused = str(e)
    print(json.dumps({'Rows': rows, 'Column': column, 'Refused': refused}))
`, b.Name())
	rowSum := func(lo, hi int) (s float64) {
		for k := lo * 3; k < hi*3; k++ {
			s += 2 * float64(k)
		}
		return s
	}
	wantRows := [][2]float64{{4, rowSum(0, 4)}, {3, rowSum(4, 7)}, {3, rowSum(7, 10)}}
	if len(got.Rows) != 3 || got.Rows[0] != wantRows[0] || got.Rows[1] != wantRows[1] || got.Rows[2] != wantRows[2] {
		t.Errorf("rows: %v, want %v", got.Rows, wantRows)
	}
	if !equalInts(got.Column, []int{3, 3, 2, 2}) {
		t.Errorf("column chunks: %v, want [3 3 2 2]", got.Column)
	}
	if !regexp.MustCompile(`needs an array in a named ndshm block .* not a ndarray`).MatchString(got.Refused) {
		t.Errorf("plain ndarray: %q", got.Refused)
	}
	for i := range 10 {
		for j := range 3 {
			want := 2 * float64(i*3+j)
			if j == 1 {
				want++
			}
			if v := a.At(i, j); v != want {
				t.Fatalf("a[%d,%d] = %v, want %v", i, j, v, want)
			}
		}
	}
}

// The Pool benchmark (python/examples/pool_bench.py) runs its three ways
// on a small array; it exits non-zero if any way got a wrong array or sum.
func TestPythonPoolBench(t *testing.T) {
	cmd := shmtest.PythonCommand(t, "python/examples/pool_bench.py", "--mib", "2", "--workers", "2")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pool_bench: %v\n%s", err, out)
	}
	for _, way := range []string{"ndshm", "by-value", "shared_memory"} {
		if !regexp.MustCompile(`(?m)^` + way + ` +fresh +[0-9.]+ s +warm +[0-9.]+ s$`).Match(out) {
			t.Errorf("pool_bench printed no time for %s:\n%s", way, out)
		}
	}
	if regexp.MustCompile(`(?i)warning|leaked`).Match(out) {
		t.Errorf("pool_bench warned:\n%s", out)
	}
}
