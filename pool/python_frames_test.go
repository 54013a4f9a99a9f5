package pool_test

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// pyWorker is a Python worker driven frame by frame over its fd 3.
type pyWorker struct {
	t   *testing.T
	cmd *exec.Cmd
	fd  int
}

func startPyWorker(t *testing.T) *pyWorker {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	child := os.NewFile(uintptr(fds[1]), "worker end")
	cmd := shmtest.PythonCommand(t, "-m", "ndshm", "worker")
	cmd.ExtraFiles = []*os.File{child}
	cmd.Stderr = os.Stderr
	err = cmd.Start()
	child.Close()
	if err != nil {
		syscall.Close(fds[0])
		t.Fatal(err)
	}
	w := &pyWorker{t, cmd, fds[0]}
	t.Cleanup(func() { w.close(); w.cmd.Process.Kill(); w.cmd.Wait() })
	if b := w.recv(); len(b) != 8 || b[1] != 'H' {
		t.Fatalf("hello % x", b)
	}
	return w
}

func (w *pyWorker) close() {
	if w.fd >= 0 {
		syscall.Close(w.fd)
		w.fd = -1
	}
}

func (w *pyWorker) send(b []byte, fd int) {
	var oob []byte
	if fd >= 0 {
		oob = syscall.UnixRights(fd)
	}
	if err := syscall.Sendmsg(w.fd, b, oob, nil, 0); err != nil {
		w.t.Fatal(err)
	}
}

func (w *pyWorker) recv() []byte {
	b := make([]byte, 64+8*8192+4096)
	n, _, _, _, err := syscall.Recvmsg(w.fd, b, nil, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return b[:n]
}

// exits reports whether the worker ended with status 1, as it must on a
// malformed frame. It first shuts its side of the channel, so that a
// worker that took the frame answers it and ends too (status 0, at EOF)
// instead of waiting.
func (w *pyWorker) exits() bool {
	syscall.Shutdown(w.fd, syscall.SHUT_WR)
	err := w.cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == 1
}

func attachFrame(id uint32, name string) []byte {
	b := []byte{1, 'A', 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[2:], uint16(len(name)))
	binary.LittleEndian.PutUint32(b[4:], id)
	return append(b, name...)
}

func taskFrame(op string, src uint32, lo, hi int64, params ...float64) []byte {
	b := make([]byte, 96)
	b[0], b[1], b[2], b[3] = 1, 'T', byte(len(params)), byte(len(op))
	le := binary.LittleEndian
	le.PutUint32(b[4:], 7)
	le.PutUint32(b[8:], src)
	le.PutUint64(b[16:], uint64(lo))
	le.PutUint64(b[24:], uint64(hi))
	for i, p := range params {
		le.PutUint64(b[32+8*i:], math.Float64bits(p))
	}
	copy(b[64:], op)
	return b
}

// The Python worker checks every task against the protocol's limits and
// Go's parameter rules: a histogram of more than 4,096 bins (or 2^31) is a
// failed result, never an allocation; so are bad clip bounds and
// fractional integers. Malformed frames end it with status 1.
func TestPythonWorkerChecksFrames(t *testing.T) {
	f64, _ := fillArray[float64](t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}}, false)
	i32, _ := fillArray[int32](t, ndshm.Spec{DType: ndshm.Int32, Shape: []int{10}}, false)
	w := startPyWorker(t)
	for id, b := range []*ndshm.Block{f64, i32} {
		f, err := b.File()
		if err != nil {
			t.Fatal(err)
		}
		w.send(attachFrame(uint32(id+1), b.Name()), int(f.Fd()))
		f.Close()
	}
	for _, tc := range []struct {
		task []byte
		want string
	}{
		{taskFrame("histogram", 1, 0, 10, 5000, 0, 1), "histogram bins must be a whole number from 1 to 4096, got 5000"},
		{taskFrame("histogram", 1, 0, 10, 1<<31, 0, 1), "from 1 to 4096, got 2.14748e+09"},
		{taskFrame("histogram", 1, 0, 10, 0, 0, 1), "from 1 to 4096, got 0"},
		{taskFrame("histogram", 1, 0, 10, 2.5, 0, 1), "from 1 to 4096, got 2.5"},
		{taskFrame("histogram", 1, 0, 10, math.NaN(), 0, 1), "from 1 to 4096, got nan"},
		{taskFrame("histogram", 1, 0, 10, 4, 1, 1), "histogram needs finite lo < hi, got 1, 1"},
		{taskFrame("histogram", 1, 0, 10, 4, math.Inf(-1), 1), "histogram needs finite lo < hi"},
		{taskFrame("histogram", 1, 0, 10, 4, 0), "histogram takes 3 parameter(s), histogram=bins,lo,hi"},
		{taskFrame("clip", 1, 0, 10, 5, 1), "clip needs lo <= hi, got 5, 1"},
		{taskFrame("clip", 1, 0, 10, math.NaN(), 1), "clip needs lo <= hi"},
		{taskFrame("fill", 2, 0, 10, 1.5), "fill v: 1.5 is not a whole number in the range of <i4"},
		{taskFrame("scale", 2, 0, 10, 1<<31), "scale a: 2.14748e+09 is not a whole number in the range of <i4"},
		{taskFrame("sqrt", 1, 0, 10, 1), "sqrt takes no parameters"},
		{taskFrame("sum", 1, 5, 11), "partition outside the array"},
	} {
		w.send(tc.task, -1)
		r := w.recv()
		e := binary.LittleEndian.Uint32(r[52:])
		nbins := binary.LittleEndian.Uint32(r[48:])
		if len(r) < 64 || r[2] != 1 || nbins != 0 || !strings.Contains(string(r[64+8*nbins:]), tc.want) {
			t.Fatalf("task % x: status %d, %d bins, %q; want a failure saying %q", tc.task[:4], r[2], nbins, r[64+8*nbins:64+8*nbins+e], tc.want)
		}
	}
	w.send(taskFrame("histogram", 1, 0, 10, 4096, 0, 1), -1)
	if r := w.recv(); r[2] != 0 || binary.LittleEndian.Uint32(r[48:]) != 4096 {
		t.Fatalf("4096 bins: status %d, %d bins", r[2], binary.LittleEndian.Uint32(r[48:]))
	}
	unused := taskFrame("sum", 1, 0, 10)
	binary.LittleEndian.PutUint64(unused[40:], math.Float64bits(1))
	for name, frame := range map[string][]byte{
		"unused parameter not zero": unused,
		"5 parameters":              append(taskFrame("sum", 1, 0, 10)[:2], append([]byte{5}, taskFrame("sum", 1, 0, 10)[3:]...)...),
		"op name not zero-padded":   append(taskFrame("sum", 1, 0, 10)[:95], 'x'),
		"task too long":             append(taskFrame("sum", 1, 0, 10), 0),
		"name longer than 255":      attachFrame(9, strings.Repeat("n", 300)),
		"detach reserved bytes":     {1, 'D', 1, 0, 1, 0, 0, 0},
		"version 2":                 append([]byte{2}, taskFrame("sum", 1, 0, 10)[1:]...),
	} {
		w := startPyWorker(t)
		fd := -1
		if frame[1] == 'A' {
			f, _ := f64.File()
			defer f.Close()
			fd = int(f.Fd())
		}
		w.send(frame, fd)
		if !w.exits() {
			t.Errorf("%s: the worker did not exit with status 1", name)
		}
	}
}
