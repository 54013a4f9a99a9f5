package pool_test

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	half "github.com/ndshm/ndshm/internal/elem"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/pool"
)

// pythonWorker returns a command that starts `python3 -m ndshm worker`
// as a pool worker. shmtest.Python fails the test under CI without NumPy.
func pythonWorker(t *testing.T) func() *exec.Cmd {
	proto := shmtest.PythonCommand(t, "-m", "ndshm", "worker")
	return func() *exec.Cmd { // in the pool's goroutines: no t.Fatal here
		cmd := exec.Command(proto.Path, proto.Args[1:]...)
		cmd.Env, cmd.Stderr = slices.Clone(proto.Env), os.Stderr // the pool appends to it
		return cmd
	}
}

// goWorker starts this test binary as a Go worker, as a pool does
// without Command: TestMain calls WorkerMain first.
func goWorker() *exec.Cmd {
	return reexec.Command("pool-worker")
}

// mixedWorkers alternates Python and Go workers, replacements included.
func mixedWorkers(t *testing.T) func() *exec.Cmd {
	py := pythonWorker(t)
	var n atomic.Int64
	return func() *exec.Cmd {
		if n.Add(1)%2 == 1 {
			return py()
		}
		return goWorker()
	}
}

// pythonPids counts the pool's workers that run python3 -m ndshm worker.
func pythonPids(t *testing.T, p *pool.Pool) int {
	n := 0
	for _, pid := range p.Pids() {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "\x00-m\x00ndshm\x00worker\x00") {
			n++
		}
	}
	return n
}

// pythonPools are the pools whose workers are, or include, Python ones.
func pythonPools(t *testing.T) map[string]*pool.Pool {
	py, mixed := pythonWorker(t), mixedWorkers(t)
	ps := map[string]*pool.Pool{
		"python-1":        newProcs(t, 1, pool.Command(py)),
		"python-3":        newProcs(t, 3, pool.Command(py)),
		"python-2-chunk2": newProcs(t, 2, pool.Command(py), pool.ChunkRows(2)),
		"mixed-4-chunk1":  newProcs(t, 4, pool.Command(mixed), pool.ChunkRows(1)),
	}
	if n := pythonPids(t, ps["python-3"]); n != 3 {
		t.Fatalf("python-3 pool has %d Python workers", n)
	}
	if n := pythonPids(t, ps["mixed-4-chunk1"]); n != 2 {
		t.Fatalf("mixed pool has %d Python workers of 4", n)
	}
	return ps
}

func sameStats(a, b pool.Stats) bool {
	return a.Count == b.Count && sameFloat(a.Sum, b.Sum) && sameFloat(a.Min, b.Min) && sameFloat(a.Max, b.Max) &&
		slices.Equal(a.Hist, b.Hist)
}

// pySpecs are layouts plus larger arrays, whose histograms have many
// values on bin edges.
func pySpecs() []ndshm.Spec {
	return append(slices.Clone(layouts), ndshm.Spec{Shape: []int{1000, 37}}, ndshm.Spec{Shape: []int{300, 7, 5}, Fortran: true})
}

// checkPython runs every built-in on p and on a serial pool, over
// copies of the same data, and wants the same results to the bit.
func checkPython[T elem](t *testing.T, p *pool.Pool, dt ndshm.DType, maps, reductions []string) {
	ctx := context.Background()
	serial := pool.Serial()
	for i, s := range pySpecs() {
		s.DType = dt
		b, _ := fillArray[T](t, s, i%2 == 1)
		for _, op := range reductions {
			got, err := p.Reduce(ctx, b, op)
			if err != nil {
				t.Fatalf("%v %s: %v", s, op, err)
			}
			want, err := serial.Reduce(ctx, b, op)
			if err != nil {
				t.Fatal(err)
			}
			if !sameStats(got, want) {
				t.Fatalf("%v %s: got %+v, want %+v", s, op, got, want)
			}
		}
		for _, op := range maps {
			mine, _ := fillArray[T](t, s, i%2 == 0)
			ref, _ := fillArray[T](t, s, true)
			if err := p.Map(ctx, mine, op); err != nil {
				t.Fatalf("%v %s: %v", s, op, err)
			}
			if err := serial.Map(ctx, ref, op); err != nil {
				t.Fatal(err)
			}
			out := newBlock(t, s, i%2 == 0)
			if err := p.MapTo(ctx, b, out, op); err != nil {
				t.Fatalf("%v %s: MapTo: %v", s, op, err)
			}
			want := contents[T](t, ref)
			for name, got := range map[string][]T{"Map": contents[T](t, mine), "MapTo": contents[T](t, out)} {
				for k := range want {
					if !sameFloat(float64(got[k]), float64(want[k])) {
						t.Fatalf("%v %s %s: element %d is %v, want %v", s, name, op, k, got[k], want[k])
					}
				}
			}
			for _, x := range []*ndshm.Block{mine, ref, out} {
				p.Release(x)
				x.Close()
			}
		}
		p.Release(b)
		b.Close()
	}
}

var (
	floatMaps = []string{"affine=2,1", "affine=0.1,-3", "sqrt", "scale=-1.5", "offset=0.25", "square", "clip=-3,7.5", "fill=2.5", "noop"}
	intMaps   = []string{"affine=3,1", "scale=200", "offset=250", "square", "clip=5,50", "fill=9", "noop"}
)

func TestPythonWorkerMatchesGo(t *testing.T) {
	for name, p := range pythonPools(t) {
		t.Run(name, func(t *testing.T) {
			checkPython[float64](t, p, ndshm.Float64, floatMaps,
				[]string{"sum", "min", "max", "mean", "count", "histogram=10,-5,5", "histogram=7,-30.3,71.1", "histogram=1,0,1"})
			checkPython[float32](t, p, ndshm.Float32, floatMaps,
				[]string{"sum", "min", "max", "count", "histogram=10,-20,60", "histogram=13,-29.9,69.7"})
			checkPython[int32](t, p, ndshm.Int32, intMaps, []string{"sum", "min", "max", "histogram=9,3,97"})
			checkPython[uint8](t, p, ndshm.Uint8, intMaps, []string{"sum", "max", "histogram=4,0,255"})
		})
	}
}

// TestPythonWorkerNaN: NaN makes min and max NaN and is not binned.
func TestPythonWorkerNaN(t *testing.T) {
	ctx := context.Background()
	p := newProcs(t, 2, pool.Command(pythonWorker(t)))
	for _, dt := range []ndshm.DType{ndshm.Float64, ndshm.Float32} {
		b := newBlock(t, ndshm.Spec{DType: dt, Shape: []int{6, 2}}, true)
		vals := []float64{1, 2, math.NaN(), 4, 5, 6, 7, 8, 9, math.Inf(1), 3, 0}
		for i, v := range vals {
			if dt.Equal(ndshm.Float64) {
				must(ndshm.View[float64](b)).Set(v, i/2, i%2)
			} else {
				must(ndshm.View[float32](b)).Set(float32(v), i/2, i%2)
			}
		}
		for _, op := range []string{"sum", "min", "max", "histogram=3,0,9"} {
			got, err := p.Reduce(ctx, b, op)
			want, err2 := pool.Serial().Reduce(ctx, b, op)
			if err != nil || err2 != nil || !sameStats(got, want) {
				t.Fatalf("%v %s: got %+v (%v), want %+v (%v)", dt, op, got, err, want, err2)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPythonWorkerUnknownOp: an op the Python worker lacks fails the call
// with the worker's message, and the worker lives on.
func TestPythonWorkerUnknownOp(t *testing.T) {
	ctx := context.Background()
	p := newProcs(t, 1, pool.Command(pythonWorker(t)))
	b, _ := fillArray[float64](t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}}, true)
	pids := p.Pids()
	err := p.Map(ctx, b, "test-negate")
	if err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Fatalf("test-negate on a Python worker: %v", err)
	}
	var pe *pool.PartitionError
	t.Logf("%v (PartitionError: %v)", err, errors.As(err, &pe))
	if s, err := p.Reduce(ctx, b, "count"); err != nil || s.Count != 10 {
		t.Fatalf("count after a failed task: %+v, %v", s, err)
	}
	if !slices.Equal(pids, p.Pids()) {
		t.Fatalf("worker replaced: %v, then %v", pids, p.Pids())
	}
}

// TestPythonWorkerOverhead logs what a task costs on Python and Go workers.
func TestPythonWorkerOverhead(t *testing.T) {
	ctx := context.Background()
	py := newProcs(t, 1, pool.Command(pythonWorker(t)))
	gw := newProcs(t, 1)
	b, _ := fillArray[float64](t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{16}}, true)
	for name, p := range map[string]*pool.Pool{"python": py, "go": gw} {
		const n = 300
		var rt time.Duration
		for range n {
			d, err := p.RoundTrip(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rt += d
		}
		start := time.Now()
		for range n {
			if _, err := p.Reduce(ctx, b, "sum"); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s worker: round trip %v, Reduce sum of 16 float64 %v per call",
			name, rt/n, time.Since(start)/n)
	}
}

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
	b1 := newBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{10}}, false)
	b1.Bytes()[3] = 2
	f2 := newBlock(t, ndshm.Spec{DType: ndshm.Float16, Shape: []int{10}}, false)
	w := startPyWorker(t)
	for id, b := range []*ndshm.Block{f64, i32, b1, f2} {
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
		{taskFrame("max", 3, 0, 10), "dtype mismatch: a bool array holds the byte 2, not 0 or 1"},
		{taskFrame("scale", 3, 0, 10, 2), "no kernel 'scale' for dtype bool"},
		{taskFrame("noop", 4, 0, 10), "no kernel 'noop' for dtype float16"},
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

// boolHalfCase is a bool or float16 array for the Python worker's
// reductions: its elements' bits, in memory order, from bits(i).
type boolHalfCase struct {
	spec ndshm.Spec
	bits func(i int) uint16
}

// boolHalfCases are every layout in bool and in float16 (small values,
// exact sums in any order), and float16's special values: ±0, the least
// subnormal, the greatest finite, NaN, ±Inf, and 4,096 finite values of
// every magnitude (fewer than 8,192: their float64 sum is exact, so NumPy's
// pairwise order and Go's give the same bits).
func boolHalfCases() []boolHalfCase {
	var cs []boolHalfCase
	for _, s := range pySpecs() {
		s.DType = ndshm.Bool
		cs = append(cs, boolHalfCase{s, func(i int) uint16 { return uint16(i * 37 % 101 % 3 % 2) }})
		s.DType = ndshm.Float16
		cs = append(cs, boolHalfCase{s, func(i int) uint16 { return half.HalfFromFloat(float64(i*37%101) - 30.25) }})
	}
	special := func(xs ...uint16) func(int) uint16 { return func(i int) uint16 { return xs[i] } }
	const nan, inf, ninf = 0x7e00, 0x7c00, 0xfc00
	f16 := func(shape ...int) ndshm.Spec { return ndshm.Spec{DType: ndshm.Float16, Shape: shape} }
	return append(cs,
		boolHalfCase{f16(2, 3), special(0x3c00, 0xc000, 0x3800, 0x8000, 0x0001, 0x7bff)},
		boolHalfCase{f16(4), special(0x3c00, nan, 0xc000, 0)},
		boolHalfCase{f16(3), special(0x3c00, inf, ninf)},
		boolHalfCase{f16(5), special(0x3c00, 0x7bff, 0x7bff, 0xfbff, 0x8001)},
		boolHalfCase{f16(64, 64), func(i int) uint16 {
			h := uint16(uint32(i) * 2654435761 >> 16)
			if h&0x7c00 == 0x7c00 { // not NaN or Inf
				h &^= 0x4000
			}
			return h
		}},
	)
}

// Python workers reduce bool and float16 arrays as Go's do, converting
// them exactly to float64: the same results, to the bit, as a serial pool,
// alone and mixed with Go workers. A bool byte other than 0 or 1 fails
// the call, as in Go; maps are refused.
func TestPythonWorkerBoolHalf(t *testing.T) {
	ctx := context.Background()
	ops := []string{"sum", "min", "max", "mean", "count", "histogram=4,-2,2", "histogram=7,-30.3,71.1", "histogram=13,-65504,65504"}
	for name, p := range pythonPools(t) {
		t.Run(name, func(t *testing.T) {
			for i, c := range boolHalfCases() {
				b := newBlock(t, c.spec, i%2 == 1)
				for k := range c.spec.Len() {
					if c.spec.DType.Size() == 1 {
						b.Bytes()[k] = byte(c.bits(k))
					} else {
						binary.NativeEndian.PutUint16(b.Bytes()[2*k:], c.bits(k))
					}
				}
				for _, op := range ops {
					got, err := p.Reduce(ctx, b, op)
					want, werr := pool.Serial().Reduce(ctx, b, op)
					if err != nil || werr != nil || !sameStats(got, want) {
						t.Fatalf("%v %s: got %+v (%v), want %+v (%v)", c.spec, op, got, err, want, werr)
					}
				}
				p.Release(b)
				b.Close()
			}
			bad := newBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{6, 2}}, false)
			copy(bad.Bytes(), []byte{1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 2, 1})
			for _, op := range []string{"sum", "min", "max", "mean", "histogram=2,0,1"} {
				if s, err := p.Reduce(ctx, bad, op); err == nil || !strings.Contains(err.Error(), "bool array holds the byte 2") {
					t.Errorf("%s of a bool array holding 2: %+v, %v", op, s, err)
				}
			}
			if s, err := p.Reduce(ctx, bad, "count"); err != nil || s.Count != 12 {
				t.Errorf("count of a bool array holding 2 (count reads nothing): %+v, %v", s, err)
			}
			p.Release(bad)
		})
	}
}
