package ndshm_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A with statement over create() with no name: the block gets a random
// ndshm- name that Go opens, owned by the live Python process, and is
// gone as soon as the statement ends (not at exit), persistent or not.
// A with statement over attach() leaves the block alone.
func TestPythonCreateWithAutoName(t *testing.T) {
	for _, persistent := range []bool{false, true} {
		cmd := shmtest.PythonCommand(t, "-c", `import sys, os, ndshm
with ndshm.create(None, (3,), 'f8', persistent=sys.argv[1] == 'p') as a:
    print(a.name, flush=True)
    sys.stdin.readline()                # Go writes a[1] meanwhile
    with ndshm.attach(a.name) as b:
        pass
    print(a[1], os.path.exists('/dev/shm/' + a.name), flush=True)
print(os.path.exists('/dev/shm/' + a.name), a.name, a[1:].name, flush=True)
sys.stdin.readline()                    # alive while Go looks
`, map[bool]string{false: "o", true: "p"}[persistent])
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		line, _ := out.ReadString('\n')
		name := strings.TrimSpace(line)
		t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait(); ndshm.Unlink(name) })
		if !regexp.MustCompile(`^ndshm-[0-9a-f]{16}$`).MatchString(name) {
			t.Fatalf("auto name %q", line)
		}
		info, err := ndshm.Stat(name)
		if err != nil || info.Persistent != persistent || !info.CreatorAlive { // the Python creator runs
			t.Fatalf("persistent=%v: Stat(%s) = %+v, %v", persistent, name, info, err)
		}
		b, err := ndshm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := ndshm.View[float64](b)
		a.Set(7.5, 1)
		b.Close()
		stdin.Write([]byte("\n"))
		inside, _ := out.ReadString('\n')
		after, _ := out.ReadString('\n')
		if inside != "7.5 True\n" || after != "False "+name+" "+name+"\n" {
			t.Errorf("persistent=%v: inside the with: %q, after: %q", persistent, inside, after)
		}
		if _, err := ndshm.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("persistent=%v: after the with statement, Stat: %v", persistent, err)
		}
	}
}

// create and attach return SharedArrays that behave as ndarrays: views
// and slices keep the class and the block; results in new memory (ufuncs,
// reductions, copies, np.array) do not claim the block.
func TestPythonSharedArrayKinds(t *testing.T) {
	name := shmtest.Name()
	var got map[string][]any
	python(t, &got, `a = ndshm.create(sys.argv[1], (4, 6), 'i4')
a[:] = np.arange(24).reshape(4, 6)
def kind(x):
    return [type(x).__name__, getattr(x, 'name', None), getattr(x, 'offset', None)]
b = ndshm.attach(sys.argv[1], readonly=True)
print(json.dumps({'create': kind(a), 'attach': kind(b), 'slice': kind(a[1:, 2:]), 'T': kind(a.T),
    'strided': kind(b[::-2, ::3]), 'dtype': kind(a.view('u1')), 'ufunc': kind(a + 1),
    'inplace': kind(np.add(a, 1, out=a)), 'sum': kind(a.sum(axis=0)), 'copy': kind(a.copy()),
    'array': kind(np.array(a)), 'asarray': kind(np.asarray(a)), 'scalar': kind(a.sum()),
    'isinstance': [isinstance(a, np.ndarray), isinstance(a, ndshm.SharedArray)]}))`, name)
	want := map[string][]any{
		"create": {"SharedArray", name, 4096.0}, "attach": {"SharedArray", name, 4096.0},
		"slice": {"SharedArray", name, 4096.0 + 4*(6+2)}, "T": {"SharedArray", name, 4096.0},
		"strided": {"SharedArray", name, 4096.0 + 4*18}, "dtype": {"SharedArray", name, 4096.0},
		"ufunc": {"ndarray", nil, nil}, "inplace": {"SharedArray", name, 4096.0},
		"sum": {"ndarray", nil, nil}, "copy": {"SharedArray", nil, nil},
		"array": {"ndarray", nil, nil}, "asarray": {"ndarray", nil, nil},
		"scalar": {"int64", nil, nil}, "isinstance": {true, true},
	}
	for k, w := range want {
		g, _ := json.Marshal(got[k])
		if ws, _ := json.Marshal(w); string(g) != string(ws) {
			t.Errorf("%s: %s, want %s", k, g, ws)
		}
	}
}
