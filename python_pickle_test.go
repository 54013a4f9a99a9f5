package ndshm_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// pythonFile runs script as a file (so multiprocessing's spawn and
// forkserver can import its functions in their workers) with args, and
// decodes the last line it prints as JSON into out.
func pythonFile(t *testing.T, out any, script string, args ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.py")
	prelude := "import sys, json, numpy as np\nimport ndshm\n"
	if err := os.WriteFile(path, []byte(prelude+script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := shmtest.PythonCommand(t, append([]string{path}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	lines := bytes.Split(bytes.TrimSpace(stdout), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], out); err != nil {
		t.Fatalf("python printed %q: %v\n%s", stdout, err, stderr.Bytes())
	}
}

// Each start method's workers get a different view of a Go block (a
// slice, a strided view, a Fortran view, a reversed view): each reads the
// values Go wrote and adds to its view in place, and Go sees the sums.
func TestPythonPickleByNameAcrossStartMethods(t *testing.T) {
	b := tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{12, 10}})
	a, _ := ndshm.View[float64](b)
	for i := range 12 {
		for j := range 10 {
			a.Set(float64(i*10+j), i, j)
		}
	}
	var got []struct {
		Method, Type, Name string
		Sum                float64
		Shape              []int
		Pickled            int
	}
	pythonFile(t, &got, `import multiprocessing as mp, pickle
from concurrent.futures import ProcessPoolExecutor

def work(args):
    v, k = args
    s = float(v.sum())
    v += k
    return type(v).__name__, v.name, s, list(v.shape)

if __name__ == '__main__':
    a = ndshm.attach(sys.argv[1])
    views = {'fork': a[0:3], 'spawn': a[3:6, ::2], 'forkserver': a[6:9].T, 'executor': a[9:12, ::-1]}
    out = []
    for k, (m, v) in enumerate(views.items(), 1):
        if m == 'executor':
            with ProcessPoolExecutor(2, mp_context=mp.get_context('spawn')) as ex:
                r = list(ex.map(work, [(v, k)]))[0]
        else:
            with mp.get_context(m).Pool(2) as pool:
                r = pool.map(work, [(v, k)])[0]
        out.append({'Method': m, 'Type': r[0], 'Name': r[1], 'Sum': r[2], 'Shape': r[3],
                    'Pickled': len(pickle.dumps(v))})
    print(json.dumps(out))
`, b.Name())
	sum := func(rows, cols []int) (s float64) {
		for _, i := range rows {
			for _, j := range cols {
				s += float64(i*10 + j)
			}
		}
		return s
	}
	span := func(lo, hi, step int) (r []int) {
		for i := lo; i < hi; i += step {
			r = append(r, i)
		}
		return r
	}
	all := span(0, 10, 1)
	want := []struct {
		method     string
		rows, cols []int
		shape      []int
	}{
		{"fork", span(0, 3, 1), all, []int{3, 10}},
		{"spawn", span(3, 6, 1), span(0, 10, 2), []int{3, 5}},
		{"forkserver", span(6, 9, 1), all, []int{10, 3}},
		{"executor", span(9, 12, 1), all, []int{3, 10}},
	}
	if len(got) != len(want) {
		t.Fatalf("python reported %d methods: %+v", len(got), got)
	}
	for k, w := range want {
		g := got[k]
		if g.Method != w.method || g.Type != "SharedArray" || g.Name != b.Name() ||
			g.Sum != sum(w.rows, w.cols) || !equalInts(g.Shape, w.shape) || g.Pickled > 1024 {
			t.Errorf("%s: worker saw %+v, want sum %v shape %v, a SharedArray of %s pickled in < 1 KiB",
				w.method, g, sum(w.rows, w.cols), w.shape, b.Name())
		}
	}
	// Go sees each worker's in-place add: k+1 in its rows and columns, 0 elsewhere.
	for i := range 12 {
		for j := range 10 {
			add := 0.0
			for k, w := range want {
				if containsInt(w.rows, i) && containsInt(w.cols, j) {
					add = float64(k + 1)
				}
			}
			if v := a.At(i, j); v != float64(i*10+j)+add {
				t.Fatalf("a[%d,%d] = %v, want %v", i, j, v, float64(i*10+j)+add)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// What pickles how: a 100 MiB block's view by name in under 1 KiB; a
// copy (np.array, a.copy()) and a ufunc's result by value as plain
// ndarrays; a view of an unlinked block, or of a name now another
// block's, fails to unpickle naming the block and why; a view of an
// anonymous block refuses to pickle.
func TestPythonPickleWhatCrossesHow(t *testing.T) {
	name, other := shmtest.Name(), shmtest.Name()
	var got map[string]any
	pythonFile(t, &got, `import os, pickle
name, other = sys.argv[1], sys.argv[2]
out = {}
with ndshm.create(name, (100 << 20) // 8, 'f8') as a:
    a[:5] = 1
    v = a[1:-1]
    out['view'] = len(pickle.dumps(v))
    out['fortran'] = len(pickle.dumps(a.reshape(1024, -1).T[::3]))
    for k, c in {'array': np.array(v[:1000]), 'copy': v[:1000].copy(), 'ufunc': v[:1000] + 1}.items():
        back = pickle.loads(pickle.dumps(c))
        out[k] = [type(c).__name__, getattr(c, 'name', None), len(pickle.dumps(c)), type(back).__name__]
    p = pickle.dumps(v[:4])
    out['loads'] = pickle.loads(p).tolist()
def fails(p):
    try:
        pickle.loads(p)
        return 'no error'
    except FileNotFoundError as e:
        return str(e)
out['unlinked'] = fails(p)
b = ndshm.create(other, (4,), 'f8')
q = pickle.dumps(b)
ndshm.unlink(other)
c = ndshm.create(other, (4,), 'f8')
out['replaced'] = fails(q)
fd = os.open('/dev/shm/' + other, os.O_RDWR)
anon = ndshm.blocks._attach_fd(fd, 'from a descriptor')
os.close(fd)
try:
    pickle.dumps(anon[1:])
    out['anonymous'] = 'pickled'
except TypeError as e:
    out['anonymous'] = str(e)
print(json.dumps(out))
`, name, other)
	for _, k := range []string{"view", "fortran"} {
		if n, _ := got[k].(float64); n <= 0 || n >= 1024 {
			t.Errorf("pickled %s of a 100 MiB block: %v bytes, want < 1 KiB", k, got[k])
		}
	}
	for _, k := range []string{"array", "copy", "ufunc"} {
		g, _ := got[k].([]any)
		if len(g) != 4 || g[0] == "SharedArray" && k != "copy" || g[1] != nil || g[2].(float64) < 8000 || g[3] != "ndarray" {
			t.Errorf("%s: [type, name, pickled bytes, unpickled type] = %v; want a copy by value", k, g)
		}
	}
	if l, _ := got["loads"].([]any); len(l) != 4 || l[0] != 1.0 || l[3] != 1.0 {
		t.Errorf("unpickled view reads %v, want [1 1 1 1]", got["loads"])
	}
	for k, want := range map[string]string{"unlinked": "block " + name + ": the block is gone",
		"replaced":  "block " + other + ": the block the view was of is gone; the name now belongs to another block",
		"anonymous": "cannot pickle a view of an anonymous ndshm block"} {
		if s, _ := got[k].(string); !strings.Contains(s, want) {
			t.Errorf("%s: %q, want it to say %q", k, s, want)
		}
	}
	if _, err := os.Stat(shmFile(name)); err == nil {
		t.Errorf("%s outlived its with statement", name)
	}
}
