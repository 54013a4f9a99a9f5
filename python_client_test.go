package ndshm_test

// The Python client (ndshm.Client, in python/ndshm/client.py) against a
// real server, running in this process, with Go on the other side of
// every exchange.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/server"
)

// pycServe runs a server on a socket in a fresh directory until the test
// ends and returns the directory. It never collects orphans: other
// packages' tests make orphans on purpose and must find them.
func pycServe(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	srv := &server.Server{Socket: filepath.Join(dir, "ndshm.sock"), GCInterval: -1, Logf: t.Logf}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return 5s after its context ended")
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c, err := server.Dial(srv.Socket)
		if err == nil {
			c.Close()
			return dir
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
	}
}

// pycPrelude imports ndshm, and lets a script check that it closed
// every descriptor the server sent it.
const pycPrelude = `import sys, os, json, numpy as np
import ndshm
_fds = len(os.listdir('/proc/self/fd'))
def _no_leak():
    if len(os.listdir('/proc/self/fd')) != _fds:
        print('leaked descriptors:', os.listdir('/proc/self/fd'), file=sys.stderr)
        os._exit(3)
`

// pycStart starts script with XDG_RUNTIME_DIR=dir, so that Client()
// finds the server by its default socket, and args as sys.argv[1:].
func pycStart(t *testing.T, dir, script string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := shmtest.PythonCommand(t, append([]string{"-c", pycPrelude + script}, args...)...)
	cmd.Env = append(cmd.Env, "XDG_RUNTIME_DIR="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, in, bufio.NewReader(out)
}

// pycLine reads the script's next line of JSON into v.
func pycLine(t *testing.T, r *bufio.Reader, v any) {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("python said %q: %v", line, err)
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		t.Fatalf("python said %q: %v", line, err)
	}
}

// pycRun runs script to the end and decodes its one line of JSON into v.
func pycRun(t *testing.T, dir string, v any, script string, args ...string) {
	t.Helper()
	cmd, in, out := pycStart(t, dir, script, args...)
	in.Close()
	pycLine(t, out, v)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python: %v", err)
	}
}

func TestPythonClientListStat(t *testing.T) {
	dir := pycServe(t)
	b := tBlock(t, ndshm.Spec{DType: ndshm.Int16, Shape: []int{5, 2}, Fortran: true})
	var got struct {
		Names   []string
		Stat    map[string]any
		Missing [2]string // message, code
		Drop    [2]string
	}
	pycRun(t, dir, &got, `
with ndshm.Client() as c:   # the default socket: $XDG_RUNTIME_DIR/ndshm.sock
    names = [b['name'] for b in c.list()]
    st = c.stat(sys.argv[1])
    errs = []
    for f, arg in ((c.stat, sys.argv[1] + '-missing'), (c.drop, sys.argv[1])):
        try:
            f(arg)
            errs.append(['no error', ''])
        except ndshm.ServerError as e:
            errs.append([str(e), e.code])
_no_leak()
print(json.dumps({'names': names, 'stat': st, 'missing': errs[0], 'drop': errs[1]}))
`, b.Name())
	if !slices.Contains(got.Names, b.Name()) {
		t.Errorf("list lacks %s: %v", b.Name(), got.Names)
	}
	st := got.Stat
	if st["dtype"] != "<i2" || st["order"] != "F" || fmt.Sprint(st["shape"]) != "[5 2]" ||
		st["creator_pid"] != float64(os.Getpid()) || st["creator_alive"] != true {
		t.Errorf("stat: %v", st)
	}
	if got.Missing[1] != "not_exist" || !strings.Contains(got.Missing[0], b.Name()+"-missing") {
		t.Errorf("stat of a missing block raised %q", got.Missing)
	}
	if got.Drop[0] == "no error" || !strings.Contains(got.Drop[0], "not a block this server owns") {
		t.Errorf("drop of a block the server does not own raised %q", got.Drop)
	}
}

// A block Python has the server create is the server's; Python attaches
// it by name and writes, and Go sees the write through Open. drop
// removes it.
func TestPythonClientCreate(t *testing.T) {
	dir := pycServe(t)
	name := shmtest.Name()
	removeAtEnd(t, name)
	var made map[string]any
	pycRun(t, dir, &made, `
with ndshm.Client(os.path.join(os.environ['XDG_RUNTIME_DIR'], 'ndshm.sock')) as c:
    blk = c.create(sys.argv[1], (3, 4), '<f8', order='F')
a = ndshm.attach(sys.argv[1])
a[...] = np.arange(12).reshape(3, 4) * 1.5
print(json.dumps(blk))
`, name)
	if made["name"] != name || made["persistent"] != false || made["creator_pid"] != float64(os.Getpid()) {
		t.Errorf("create replied %v", made)
	}
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for j := range 4 {
			if v := a.At(i, j); v != float64(i*4+j)*1.5 {
				t.Errorf("Go sees a[%d,%d] = %v, want %v", i, j, v, float64(i*4+j)*1.5)
			}
		}
	}
	var dropped bool
	pycRun(t, dir, &dropped, `
ndshm.Client().drop(sys.argv[1])
print(json.dumps(not os.path.exists('/dev/shm/' + sys.argv[1])))
`, name)
	if !dropped {
		t.Error("drop left the block")
	}
}

// Python makes an anonymous block under a key and fills it; Go gets it
// from the server and sees Python's data, and Python sees Go's write.
func TestPythonClientAnonToGo(t *testing.T) {
	dir := pycServe(t)
	key := shmtest.Name()
	cmd, in, out := pycStart(t, dir, `
c = ndshm.Client()
a = c.anon((4, 5), '<i4', key=sys.argv[1])
a[...] = np.arange(20).reshape(4, 5) * 3
print(json.dumps({'dtype': a.dtype.str, 'shape': a.shape, 'fortran': a.flags.f_contiguous and a.ndim > 1}), flush=True)
sys.stdin.readline()          # Go has it now, and has written to it
print(json.dumps(int(a[3, 4])), flush=True)
c.close()
del a                         # its mapping held the last descriptor
_no_leak()
`, key)
	var made struct {
		DType   string
		Shape   []int
		Fortran bool
	}
	pycLine(t, out, &made)
	if made.DType != "<i4" || !slices.Equal(made.Shape, []int{4, 5}) || made.Fortran {
		t.Errorf("Python's anonymous block: %+v", made)
	}
	c, err := server.Dial(filepath.Join(dir, "ndshm.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := c.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[int32](b)
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := a.Flat()
	for i, x := range xs {
		if x != int32(i*3) {
			t.Fatalf("Go sees element %d = %d, want %d (all: %v)", i, x, i*3, xs)
		}
	}
	a.Set(-7, 3, 4)
	io.WriteString(in, "\n")
	var seen int
	pycLine(t, out, &seen)
	in.Close()
	if err := cmd.Wait(); err != nil || seen != -7 {
		t.Errorf("Python saw %d after Go wrote -7; python: %v", seen, err)
	}
}

// Go makes an anonymous block under a key; Python gets it and sees Go's
// data, in Fortran order, and Go sees Python's write.
func TestPythonClientAnonFromGo(t *testing.T) {
	dir := pycServe(t)
	key := shmtest.Name()
	c, err := server.Dial(filepath.Join(dir, "ndshm.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := c.Anon(ndshm.Spec{DType: ndshm.Float32, Shape: []int{2, 3, 4}, Fortran: true}, key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[float32](b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		for j := range 3 {
			for k := range 4 {
				a.Set(float32(i*100+j*10+k), i, j, k)
			}
		}
	}
	var got struct {
		OK      bool
		Missing string
	}
	pycRun(t, dir, &got, `
with ndshm.Client() as c:
    a = c.get(sys.argv[1])
    i, j, k = np.indices((2, 3, 4))
    ok = a.dtype.str == '<f4' and a.flags.f_contiguous and bool((a == i * 100 + j * 10 + k).all())
    a[1, 2, 3] = -1.5
    try:
        c.get(sys.argv[1] + '-missing')
        missing = 'no error'
    except ndshm.ServerError as e:
        missing = e.code
del a
_no_leak()
print(json.dumps({'ok': ok, 'missing': missing}))
`, key)
	if !got.OK {
		t.Error("Python did not see Go's data in Fortran order")
	}
	if got.Missing == "no error" {
		t.Error("get of a missing key raised nothing")
	}
	if v := a.At(1, 2, 3); v != -1.5 {
		t.Errorf("Go sees %v after Python wrote -1.5", v)
	}
}
