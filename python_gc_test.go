package ndshm_test

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// goCLI builds the Go command line (cmd/ndshm) into a temporary directory
// once per test and returns a function that runs it with args and returns
// its standard output.
func goCLI(t *testing.T) func(args ...string) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ndshm")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/ndshm").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ndshm: %v\n%s", err, out)
	}
	return func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ndshm %q: %v", args, err)
		}
		return out
	}
}

// pyScript runs a Python script that imports ndshm, with args, and
// returns its standard output.
func pyScript(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := shmtest.PythonCommand(t, append([]string{"-c", "import sys, json, ndshm\n" + script}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python script %q: %v", args, err)
	}
	return out
}

// ours returns the block objects of a JSON array whose names are in names,
// as raw JSON by name: other tests' blocks share /dev/shm.
func ours(t *testing.T, js []byte, names []string) map[string]json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	if err := json.Unmarshal(js, &all); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	out := map[string]json.RawMessage{}
	for _, b := range all {
		var n struct{ Name string }
		if err := json.Unmarshal(b, &n); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names, n.Name) {
			out[n.Name] = b
		}
	}
	return out
}

// mixedBlocks makes one block of each kind gc must tell apart and returns
// their names by role: a Python orphan (its creator killed with SIGKILL),
// an orphan that a live process (this one) still maps, a Go persistent
// block, a Go owned block whose creator (this process) lives, and a Python
// owned block whose creator lives.
func mixedBlocks(t *testing.T) map[string]string {
	t.Helper()
	names := map[string]string{}
	for _, role := range []string{"orphan", "mapped orphan"} {
		name := shmtest.Name()
		cmd := pyCreator(t, name, false)
		if role == "mapped orphan" {
			b, err := ndshm.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		names[role] = name
	}
	p := tBlock(t, ndshm.Spec{DType: ndshm.Int16, Shape: []int{5}}, ndshm.Persistent())
	removeAtEnd(t, p.Name())
	p.Close()
	names["go persistent"] = p.Name()
	names["go owned, alive"] = tBlock(t, ndshm.Spec{DType: ndshm.Float32, Shape: []int{2, 2}}).Name()
	names["python owned, alive"] = shmtest.Name()
	pyCreator(t, names["python owned, alive"], false)
	return names
}

func values(m map[string]string) []string {
	var v []string
	for _, s := range m {
		v = append(v, s)
	}
	return v
}

// Python's ndshm.list() describes the blocks as `ndshm ls --json` does:
// the same objects, keys in the same order, the same values, users too.
func TestPythonListMatchesLs(t *testing.T) {
	goRun := goCLI(t)
	names := mixedBlocks(t)
	names["go ring"] = shmtest.Name()
	goRun("ring", "create", names["go ring"], "--dtype", "u1", "--shape", "8", "--slots", "2")
	removeAtEnd(t, names["go ring"])
	// A persistent block from a process that has exited: creator_alive
	// false, from its pid and start time, in both languages.
	names["python persistent"] = shmtest.Name()
	pyCLI(t, "create", names["python persistent"], "--dtype", "<c8", "--shape", "2,3", "--order", "F")
	removeAtEnd(t, names["python persistent"])

	all := values(names)
	want := ours(t, goRun("ls", "--json"), all)
	got := ours(t, pyScript(t, "print(json.dumps(ndshm.list()))"), all)
	for role, name := range names {
		if want[name] == nil || got[name] == nil {
			t.Errorf("%s: ls has it: %v, list() has it: %v", role, want[name] != nil, got[name] != nil)
			continue
		}
		g, w := got[name], want[name]
		sameBlockJSON(t, role, g, w, true)
	}
}

// gcOutcome is what a gc did with each of names, by role: "removed",
// "kept" or "" (not reported), and whether the file is still there.
func gcOutcome(t *testing.T, report []byte, names map[string]string) map[string]string {
	t.Helper()
	var r struct {
		Removed, Kept []struct{ Name string }
		DryRun        bool `json:"dry_run"`
	}
	if err := json.Unmarshal(report, &r); err != nil {
		t.Fatalf("%s: %v", report, err)
	}
	out := map[string]string{}
	for role, name := range names {
		got := ""
		for what, list := range map[string][]struct{ Name string }{"removed": r.Removed, "kept": r.Kept} {
			for _, b := range list {
				if b.Name == name {
					got = what
				}
			}
		}
		if _, err := os.Stat(shmFile(name)); err != nil {
			got += ", gone"
		}
		out[role] = got
	}
	return out
}

// pyGC runs Python's ndshm.gc limited to names and returns its report.
func pyGC(t *testing.T, dryRun, force bool, names []string) []byte {
	t.Helper()
	return pyScript(t, `names = set(sys.argv[3:])
print(json.dumps(ndshm.gc(dry_run=sys.argv[1] == 'y', force=sys.argv[2] == 'y', match=names.__contains__)))`,
		append([]string{yn(dryRun), yn(force)}, names...)...)
}

func yn(b bool) string {
	if b {
		return "y"
	}
	return "n"
}

// Python's ndshm.gc() removes what Go's GC removes: the orphan a killed
// Python creator left, and with force the orphan a live process maps;
// never a persistent block or one whose creator lives. A dry run removes
// nothing. Go's GC, on a set of its own, does the same with each role.
func TestPythonGCMatchesGo(t *testing.T) {
	for _, tc := range []struct {
		dryRun, force bool
		want          map[string]string
	}{
		{true, false, map[string]string{"orphan": "removed", "mapped orphan": "kept"}},
		{true, true, map[string]string{"orphan": "removed", "mapped orphan": "removed"}},
		{false, false, map[string]string{"orphan": "removed, gone", "mapped orphan": "kept"}},
		{false, true, map[string]string{"orphan": "removed, gone", "mapped orphan": "removed, gone"}},
	} {
		for _, who := range []string{"python", "go"} {
			names := mixedBlocks(t)
			var rep []byte
			if who == "python" {
				rep = pyGC(t, tc.dryRun, tc.force, values(names))
			} else {
				all := values(names)
				got, err := ndshm.GC(ndshm.GCOptions{DryRun: tc.dryRun, Force: tc.force,
					Match: func(n string) bool { return slices.Contains(all, n) }})
				if err != nil {
					t.Fatal(err)
				}
				rep = goGCReport(t, got, tc.dryRun, tc.force)
			}
			got := gcOutcome(t, rep, names)
			for role := range names {
				if got[role] != tc.want[role] {
					t.Errorf("%s gc dry-run %v force %v: %s %q, want %q", who, tc.dryRun, tc.force, role, got[role], tc.want[role])
				}
			}
		}
	}
}

// goGCReport sorts GC's result as `ndshm gc --json` does (cmd/ndshm/gc.go)
// into the names of "removed" and "kept".
func goGCReport(t *testing.T, got []ndshm.Collected, dryRun, force bool) []byte {
	t.Helper()
	type named struct{ Name string }
	r := struct{ Removed, Kept []named }{}
	for _, c := range got {
		switch {
		case c.Removed || dryRun && (force || len(c.Users) == 0):
			r.Removed = append(r.Removed, named{c.Name})
		case len(c.Users) > 0 && !force:
			r.Kept = append(r.Kept, named{c.Name})
		}
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// `python3 -m ndshm gc --dry-run --json` and `ndshm gc --dry-run --json`
// report the same blocks the same way on a mixed set (the blocks of other
// tests, which share /dev/shm, are left out of the comparison).
func TestPythonCLIGCDryRunMatchesGo(t *testing.T) {
	goRun := goCLI(t)
	names := mixedBlocks(t)
	all := values(names)
	for _, force := range []string{"", "--force"} {
		args := []string{"gc", "--dry-run", "--json"}
		if force != "" {
			args = append(args, force)
		}
		goRep, pyRep := goRun(args...), pyCLI(t, args...)
		if g, w := jsonKeys(t, pyRep), jsonKeys(t, goRep); !slices.Equal(g, w) {
			t.Errorf("gc %s keys %q, want %q", force, g, w)
		}
		for _, list := range []string{"removed", "kept"} {
			var g, w map[string]json.RawMessage
			json.Unmarshal(pyRep, &g)
			json.Unmarshal(goRep, &w)
			gb, wb := ours(t, g[list], all), ours(t, w[list], all)
			if !reflect.DeepEqual(slices.Sorted(maps.Keys(gb)), slices.Sorted(maps.Keys(wb))) {
				t.Errorf("gc %s %s: python %v, go %v", force, list, slices.Sorted(maps.Keys(gb)), slices.Sorted(maps.Keys(wb)))
			}
			for name, b := range wb {
				if gb[name] != nil {
					sameBlockJSON(t, "gc "+list, gb[name], b, true)
				}
			}
		}
	}
	if got := gcOutcome(t, []byte(`{}`), names); strings.Contains(strings.Join(values(got), ""), "gone") {
		t.Errorf("a dry run removed blocks: %v", got)
	}
}

// Each verb of `python3 -m ndshm` prints with --json what the Go command
// of the same spelling prints for the same block, key by key; keys that a
// run measures or that name the run itself (its new block's name, time
// and creator) are compared by presence only.
func TestPythonCLIMatchesGo(t *testing.T) {
	goRun := goCLI(t)
	for _, tc := range []struct {
		verb  string
		args  func(t *testing.T, name string) []string // name: a block each CLI gets its own of, if fresh
		fresh bool                                     // each CLI gets a new name (create)
		skip  []string                                 // keys compared by presence only
	}{
		{verb: "inspect", args: func(t *testing.T, n string) []string { return []string{"inspect", n, "--json"} }},
		{verb: "stats", args: func(t *testing.T, n string) []string { return []string{"stats", n, "--json"} }},
		{verb: "ls", args: func(t *testing.T, n string) []string { return []string{"ls", "--json"} }},
		{verb: "create", fresh: true, skip: []string{"name", "created", "creator_pid"},
			args: func(t *testing.T, n string) []string {
				removeAtEnd(t, n)
				return []string{"create", n, "--dtype", "<u2", "--shape", "(4, 5)", "--order", "F", "--fill", "7", "--json"}
			}},
		{verb: "rm", fresh: true, skip: []string{"name"}, args: func(t *testing.T, n string) []string {
			b := tBlock(t, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{3}}, ndshm.Persistent())
			removeAtEnd(t, b.Name())
			b.Close()
			return []string{"rm", b.Name(), "--json"}
		}},
		{verb: "ring stat", fresh: true, skip: []string{"name"}, args: func(t *testing.T, n string) []string {
			goRun("ring", "create", n, "--dtype", "<i4", "--shape", "3", "--slots", "2")
			removeAtEnd(t, n)
			return []string{"ring", "stat", n, "--json"}
		}},
		{verb: "ring send", fresh: true, skip: []string{"seconds", "fps", "bytes_per_s"},
			args: func(t *testing.T, n string) []string {
				goRun("ring", "create", n, "--dtype", "<i4", "--shape", "3", "--slots", "2")
				removeAtEnd(t, n)
				return []string{"ring", "send", n, "--frames", "5", "--json"}
			}},
	} {
		t.Run(tc.verb, func(t *testing.T) {
			name := shmtest.Name()
			goRun("create", name, "--dtype", "<f8", "--shape", "3,4", "--fill", "2.5")
			removeAtEnd(t, name)
			goName, pyName := name, name
			if tc.fresh {
				goName, pyName = shmtest.Name(), shmtest.Name()
			}
			want, got := goRun(tc.args(t, goName)...), pyCLI(t, tc.args(t, pyName)...)
			if tc.verb == "ls" { // other tests' blocks come and go
				want, got = ours(t, want, []string{name})[name], ours(t, got, []string{name})[name]
			}
			sameJSON(t, tc.verb, got, want, tc.skip)
		})
	}
}

// sameJSON fails t unless got and want are equal JSON values: objects with
// the same keys in the same order, arrays of the same length, leaves equal
// except under the keys in skip, which need only be present.
func sameJSON(t *testing.T, what string, got, want []byte, skip []string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: python printed %s: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: go printed %s: %v", what, want, err)
	}
	if ws, ok := w.([]any); ok {
		gs, _ := g.([]any)
		if len(gs) != len(ws) {
			t.Fatalf("%s: python %s, go %s", what, got, want)
		}
		for i := range ws {
			gi, _ := json.Marshal(gs[i])
			wi, _ := json.Marshal(ws[i])
			sameJSON(t, what, gi, wi, skip)
		}
		return
	}
	if gk, wk := jsonKeys(t, got), jsonKeys(t, want); !slices.Equal(gk, wk) {
		t.Errorf("%s keys %q, want Go's %q", what, gk, wk)
	}
	gm, wm := g.(map[string]any), w.(map[string]any)
	for k, v := range wm {
		if slices.Contains(skip, k) {
			continue
		}
		if !reflect.DeepEqual(gm[k], v) {
			t.Errorf("%s %s: python %v, go %v", what, k, gm[k], v)
		}
	}
}
