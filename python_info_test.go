package ndshm_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// Python's ndshm.info(name), and the Python client's stat(name) and
// list(), describe a block with the keys of `ndshm inspect --json`
// (Info.MarshalJSON, docs/JSON.md), in its order, and the same values:
// users included for info, which searches /proc as Stat does.
func TestPythonInfoMatchesInspect(t *testing.T) {
	dir := pycServe(t)
	for _, tc := range []struct {
		name string
		make func(t *testing.T) string // a block that lives until the test ends
	}{
		{"go owned, mapped here", func(t *testing.T) string {
			return tBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{3, 4}}).Name()
		}},
		{"go persistent record, F order, unmapped", func(t *testing.T) string {
			b := tBlock(t, ndshm.Spec{DType: mustParse(t, "[('x', '<f4'), ('y', '>i2')]"), Shape: []int{2, 5}, Fortran: true}, ndshm.Persistent())
			removeAtEnd(t, b.Name())
			b.Close()
			return b.Name()
		}},
		{"go empty", func(t *testing.T) string {
			return tBlock(t, ndshm.Spec{DType: mustParse(t, ">i2"), Shape: []int{0, 3}}).Name()
		}},
		{"go 0-d bool", func(t *testing.T) string {
			return tBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{}}).Name()
		}},
		{"go ring", func(t *testing.T) string {
			r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint8, Frame: []int{16}, Slots: 4})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			return r.Name()
		}},
		{"python owned, creator alive", pyBlock(false)},
		{"python owned, creator dead: an orphan", pyBlock(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.make(t)
			info, err := ndshm.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Info, Stat json.RawMessage
				List       []json.RawMessage
			}
			pycRun(t, dir, &got, `
with ndshm.Client() as c:
    print(json.dumps({'Info': ndshm.info(sys.argv[1]), 'Stat': c.stat(sys.argv[1]),
                      'List': [b for b in c.list() if b['name'] == sys.argv[1]]}))`, name)
			if len(got.List) != 1 {
				t.Fatalf("Client.list() has %d blocks named %s", len(got.List), name)
			}
			for what, js := range map[string]json.RawMessage{"info": got.Info, "Client.stat": got.Stat, "Client.list": got.List[0]} {
				// The server's users may be a search up to a second old
				// (docs/PROTOCOL.md): they are checked for info only.
				sameBlockJSON(t, what, js, want, what == "info")
			}
		})
	}
}

// mustParse reads a dtype as inspect --json prints it: "<f8", or a
// record's field list.
func mustParse(t *testing.T, s string) ndshm.DType {
	var dt ndshm.DType
	if err := dt.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return dt
}

// sameBlockJSON fails t unless the JSON object got has want's keys in
// want's order and the same values (users only if withUsers).
func sameBlockJSON(t *testing.T, what string, got, want []byte, withUsers bool) {
	t.Helper()
	if g, w := jsonKeys(t, got), jsonKeys(t, want); !slices.Equal(g, w) {
		t.Errorf("%s keys %q,\nwant Go's %q", what, g, w)
	}
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !withUsers {
		delete(g, "users")
		delete(w, "users")
	}
	for k, v := range w {
		if !reflect.DeepEqual(g[k], v) {
			t.Errorf("%s %s: %v, want %v", what, k, g[k], v)
		}
	}
}

// jsonKeys returns the keys of a JSON object, in order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object: %v", b, err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// pyBlock returns a make func for TestPythonInfoMatchesInspect: a Python
// process creates an owned block and lives until the test ends, or with
// kill, is killed with SIGKILL at once (and leaves an orphan).
func pyBlock(kill bool) func(t *testing.T) string {
	return func(t *testing.T) string {
		name := shmtest.Name()
		cmd := pyCreator(t, name, false)
		if kill {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
		return name
	}
}
