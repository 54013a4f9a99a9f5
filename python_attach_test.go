package ndshm_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// attach with a dtype and shape on a block that has a header: an agreeing
// spec is redundant and gives the block's array (never its header read as
// data); a disagreeing one is an error naming both.
func TestPythonAttachSpecOnHeaderedBlock(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[float64](b)
	for i := range 10 {
		a.Set(float64(i)+0.5, i)
	}
	f, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Int32, Shape: []int{2, 3}, Fortran: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got struct {
		Same, Native []float64
		Errors       []string
	}
	python(t, &got, `def err(*a, **k):
    try:
        ndshm.attach(*a, **k)
        return 'no error'
    except ValueError as e:
        return str(e)
name, fname = sys.argv[1], sys.argv[2]
print(json.dumps({'Same': ndshm.attach(name, '<f8', (10,)).tolist(),
  'Native': ndshm.attach(name, np.float64, 10, readonly=True).tolist(),
  'Errors': [err(name, '<f4', (10,)), err(name, '<f8', (5,)), err(fname, '<i4', (2, 3), order='C'),
             err(fname, '<i4', (2, 3), order='F')]}))`, name, f.Name())
	for _, s := range [][]float64{got.Same, got.Native} {
		for i, v := range s {
			if v != float64(i)+0.5 {
				t.Fatalf("attach with the block's own spec reads %v", s)
			}
		}
	}
	want := []string{
		"block " + name + " holds <f8 (10,), not <f4 (10,)",
		"block " + name + " holds <f8 (10,), not <f8 (5,)",
		"block " + f.Name() + " holds <i4 (2, 3) order F, not <i4 (2, 3) order C",
		"no error",
	}
	if len(got.Errors) != len(want) {
		t.Fatalf("errors %q", got.Errors)
	}
	for i := range want {
		if got.Errors[i] != want[i] {
			t.Errorf("error %d: %q, want %q", i, got.Errors[i], want[i])
		}
	}
}

// A FIFO planted under a block's name is refused at once, never waited on.
func TestPythonFIFOUnderBlockName(t *testing.T) {
	name := shmtest.Name()
	if err := syscall.Mkfifo("/dev/shm/"+name, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove("/dev/shm/" + name)
	cmd := shmtest.PythonCommand(t, "-c", `import sys, json, ndshm
out = []
for f in (lambda: ndshm.info(sys.argv[1]), lambda: ndshm.attach(sys.argv[1], readonly=True),
          lambda: ndshm.attach(sys.argv[1], 'u1', 1, readonly=True), lambda: ndshm.attach(sys.argv[1])):
    try:
        f()
        out.append('no error')
    except ValueError as e:
        out.append(str(e))
print(json.dumps(out))`, name)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The deadline only keeps a regression from hanging the run.
	hung := time.AfterFunc(20*time.Second, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	if !hung.Stop() {
		t.Fatal("python hung on a FIFO under a block name")
	}
	out := stdout.Bytes()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 4 {
		t.Fatalf("python printed %q", out)
	}
	for _, e := range got {
		if !strings.Contains(e, "not a regular file") {
			t.Errorf("python on a FIFO: %q", e)
		}
	}
}

// Client with no server says which socket, why, and what to do.
func TestPythonClientNoServer(t *testing.T) {
	dir := t.TempDir()
	var got []string
	python(t, &got, `import os
os.environ['XDG_RUNTIME_DIR'] = sys.argv[1]  # no server there: the default socket is absent
out = []
for sock in [os.path.join(sys.argv[1], 'none.sock'), None]:
    try:
        ndshm.Client(sock)
        out.append('no error')
    except FileNotFoundError as e:
        out.append(str(e))
print(json.dumps(out))`, dir)
	want := [][]string{
		{filepath.Join(dir, "none.sock"), "No such file or directory", "ndshm serve --socket " + filepath.Join(dir, "none.sock"), "Client(socket=PATH)"},
	}
	if len(got) != 2 {
		t.Fatalf("python: %q", got)
	}
	t.Logf("%s", got)
	for _, w := range want[0] {
		if !strings.Contains(got[0], w) {
			t.Errorf("error %q does not say %q", got[0], w)
		}
	}
	if !strings.Contains(got[1], "start one with `ndshm serve`") || !strings.Contains(got[1], filepath.Join(dir, "ndshm.sock")) {
		t.Errorf("error for the default socket: %q", got[1])
	}
}
