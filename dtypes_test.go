package ndshm_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// dtypeVector is one entry of testdata/dtypes.json, the dtypes both
// languages accept, and what they say of the others.
type dtypeVector struct {
	Descr string // a .npy descr, as a Python literal
	OK    bool
	Error string
}

func dtypeVectors(t *testing.T) []dtypeVector {
	b, err := os.ReadFile("testdata/dtypes.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ DTypes []dtypeVector }
	if err := json.Unmarshal(b, &f); err != nil || len(f.DTypes) == 0 {
		t.Fatalf("testdata/dtypes.json: %v", err)
	}
	return f.DTypes
}

// npyFile writes a .npy file of two zeroed elements of descr, whose
// element size is size, and returns its path.
func npyFile(t *testing.T, descr string, size int) string {
	text := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': (2,), }", descr)
	pad := 64 - (10+len(text)+1)%64
	text += strings.Repeat(" ", pad%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(text)), byte(len(text)>>8))
	b = append(append(b, text...), make([]byte, 2*size)...)
	p := filepath.Join(t.TempDir(), "v.npy")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Go and Python accept the same dtypes, from the same table, and refuse
// the others with the same words: Go through a .npy header's descr (Load),
// Python through create; each language then opens what the other made.
func TestDTypeVectors(t *testing.T) {
	vs := dtypeVectors(t)
	names := make([]string, len(vs))
	for i := range vs {
		names[i] = shmtest.Name()
	}
	var pyres []struct {
		OK    bool
		Size  int
		Error string
	}
	args, _ := json.Marshal(vs)
	python(t, &pyres, `from numpy.lib import format as npyfmt
import ast
out = []
for v, name in zip(json.loads(sys.argv[1]), sys.argv[2:]):
    dt = npyfmt.descr_to_dtype(ast.literal_eval(v['Descr']))
    try:
        ndshm.create(name, (2,), dt, persistent=True)
        out.append({'OK': True, 'Size': dt.itemsize, 'Error': ''})
    except ValueError as e:
        out.append({'OK': False, 'Size': dt.itemsize, 'Error': str(e)})
print(json.dumps(out))`, append([]string{string(args)}, names...)...)
	for i, v := range vs {
		py, name := pyres[i], names[i]
		t.Run(v.Descr, func(t *testing.T) {
			if py.OK {
				defer ndshm.Unlink(name)
			}
			if py.OK != v.OK || !v.OK && !strings.Contains(py.Error, v.Error) {
				t.Errorf("python create: ok=%v %q; want ok=%v %q", py.OK, py.Error, v.OK, v.Error)
			}
			b, err := ndshm.Load(npyFile(t, v.Descr, py.Size), shmtest.Name())
			if err == nil {
				b.Close()
			}
			if (err == nil) != v.OK || !v.OK && !strings.Contains(err.Error(), v.Error) {
				t.Errorf("Go Load: %v; want ok=%v %q", err, v.OK, v.Error)
			}
			if py.OK {
				b, err := ndshm.Open(name)
				if err != nil {
					t.Fatalf("Go opens the block Python made: %v", err)
				}
				b.Close()
			}
		})
	}
}
