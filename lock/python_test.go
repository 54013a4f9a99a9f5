package lock_test

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// pyRoles is the Python side of these tests: python3 -c pyRoles ROLE ARGS...
// Each role says what it does on standard output, line by line, and
// waits for standard input where a test must step it.
const pyRoles = `
import os, sys, time
import ndshm

def hold(name, mode, lo, hi, fork=''):
    # Lock [lo, hi), fork a sleeping child if asked (it must not keep the lock),
    # say "held PID", hold until standard input closes.
    lk = ndshm.RegionLock(name, range(int(lo), int(hi)), write=mode == 'w')
    lk.acquire()
    pid = 0
    if fork:
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
    print('held', pid, flush=True)
    sys.stdin.read()
    lk.release()

def tries(name, *probes):
    # Probes MODE:REGION:TIMEOUT, one acquire each: say "True SECONDS" or "False SECONDS".
    for p in probes:
        mode, region, timeout = p.split(':')
        lk = ndshm.RegionLock(name, int(region), write=mode == 'w')
        t = time.monotonic()
        ok = lk.acquire(timeout=float(timeout))
        print(ok, time.monotonic() - t, flush=True)
        if ok:
            lk.release()

def steps(name):
    # Commands on standard input: "MODE LO HI" locks [LO, HI) and says "held";
    # an empty line releases it and says "released".
    lk = None
    for line in sys.stdin:
        if line.split():
            mode, lo, hi = line.split()
            lk = ndshm.RegionLock(name, range(int(lo), int(hi)), write=mode == 'w')
            lk.acquire()
            print('held', flush=True)
        else:
            lk.release()
            print('released', flush=True)

def wait(name, region):
    # Say "waiting", write-lock region, waiting as long as it takes, say "took".
    print('waiting', flush=True)
    with ndshm.RegionLock(name, int(region), timeout=30):
        print('took', flush=True)

def count(name, region, n):
    # After a line on standard input, increment a[region] n times under its lock.
    a, r = ndshm.attach(name), int(region)
    print('ready', flush=True)
    sys.stdin.readline()
    for _ in range(int(n)):
        with ndshm.RegionLock(a, r):     # by the array: its block is found by its mapping
            a[r] = a[r] + 1

def add(sums, counts, seed, n):
    # After a line on standard input, add n samples into the histograms, as fill does.
    s, c, seed = ndshm.attach(sums), ndshm.attach(counts), int(seed)
    bins = len(s)
    print('ready', flush=True)
    sys.stdin.readline()
    for i in range(int(n)):
        v = (i * 7919 + seed * 104729) % 1000
        ndshm.add(s, v % bins, float(v))
        ndshm.add(c, (v % bins,), 1)

def checks(name, *exprs):
    # Evaluate each expression (a is the block's array, c a block created here, np is
    # numpy): say the name of the exception it raises, or "ok".
    import numpy as np
    import ndshm.lock
    a, c = ndshm.attach(name), ndshm.create(name + '-py', (4,), 'f8')
    env = dict(ndshm=ndshm, np=np, a=a, c=c, name=name)
    for e in exprs:
        try:
            eval(e, env)
            print('ok', flush=True)
        except Exception as x:
            print(type(x).__name__, x, flush=True)

role = sys.argv[1]
{'hold': hold, 'tries': tries, 'steps': steps, 'checks': checks, 'wait': wait, 'count': count, 'add': add}[role](*sys.argv[2:])
`

// A python is a Python process running one of pyRoles.
type python struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // its standard output, line by line; closed at EOF
}

// startPython runs the Python role with args, killed at the end of the
// test if it still runs.
func startPython(t *testing.T, role string, args ...string) *python {
	t.Helper()
	cmd := shmtest.PythonCommand(t, append([]string{"-c", pyRoles, role}, args...)...)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &python{cmd, stdin, make(chan string, 16)}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// expect returns the next line the Python process says, which must start
// with prefix.
func (p *python) expect(t *testing.T, prefix string) string {
	t.Helper()
	select {
	case s, ok := <-p.lines:
		if !ok || !strings.HasPrefix(s, prefix) {
			t.Fatalf("python said %q (open %v), want %q...", s, ok, prefix)
		}
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("python never said %q", prefix)
	}
	return ""
}

// finish closes the Python process's input and waits for it to succeed.
func (p *python) finish(t *testing.T) {
	t.Helper()
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("python: %v", err)
	}
}

// A Python holder excludes Go exactly as a Go holder does: a write lock
// excludes readers and writers, a read lock only writers, and regions
// outside the held range stay free.
func TestPythonHolderExcludesGo(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	py := startPython(t, "steps", b.Name())
	for _, tc := range []struct {
		mode             string
		lo, hi           int
		region           int
		wantLock, wantRL bool
	}{
		{"w", 3, 4, 3, false, false},
		{"r", 3, 4, 3, false, true},
		{"w", 2, 6, 5, false, false},
		{"r", 2, 6, 2, false, true},
		{"w", 2, 6, 6, true, true},
		{"w", 2, 6, 1, true, true},
	} {
		fmt.Fprintf(py.stdin, "%s %d %d\n", tc.mode, tc.lo, tc.hi)
		py.expect(t, "held")
		for _, try := range []struct {
			f    func(int) (bool, error)
			unlk func(int) error
			want bool
			name string
		}{{tab.TryLock, tab.Unlock, tc.wantLock, "TryLock"}, {tab.TryRLock, tab.RUnlock, tc.wantRL, "TryRLock"}} {
			ok, err := try.f(tc.region)
			if ok != try.want || err != nil {
				t.Errorf("Python holds %s [%d, %d): Go %s(%d) = %v, %v; want %v",
					tc.mode, tc.lo, tc.hi, try.name, tc.region, ok, err, try.want)
			}
			if ok {
				try.unlk(tc.region)
			}
		}
		io.WriteString(py.stdin, "\n")
		py.expect(t, "released")
		if ok, err := tab.TryLock(tc.region); !ok || err != nil {
			t.Errorf("Go TryLock(%d) after Python released: %v, %v", tc.region, ok, err)
		}
		tab.Unlock(tc.region)
	}
	py.finish(t)
}

// A Go holder excludes Python the same way, and a Python acquire with a
// timeout waits that long before it gives up.
func TestGoHolderExcludesPython(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	if err := tab.Lock(within(t, time.Second), 3); err != nil {
		t.Fatal(err)
	}
	if err := tab.RLock(within(t, time.Second), 5); err != nil {
		t.Fatal(err)
	}
	tcs := []struct {
		mode    string
		region  int
		timeout string
		want    bool
	}{
		{"w", 3, "0", false},
		{"r", 3, "0", false},
		{"w", 3, "0.1", false},
		{"w", 5, "0", false},
		{"r", 5, "0", true},
		{"w", 4, "0", true},
	}
	args := []string{b.Name()}
	for _, tc := range tcs {
		args = append(args, fmt.Sprintf("%s:%d:%s", tc.mode, tc.region, tc.timeout))
	}
	py := startPython(t, "tries", args...)
	for _, tc := range tcs {
		f := strings.Fields(py.expect(t, ""))
		took, _ := strconv.ParseFloat(f[1], 64)
		if want := map[bool]string{true: "True", false: "False"}[tc.want]; f[0] != want {
			t.Errorf("Go holds w 3, r 5: Python %s lock of %d (timeout %s) = %s, want %v", tc.mode, tc.region, tc.timeout, f[0], tc.want)
		}
		if limit, _ := strconv.ParseFloat(tc.timeout, 64); !tc.want && took < limit {
			t.Errorf("Python gave up on %d after %.3fs, before its %ss timeout", tc.region, took, tc.timeout)
		}
	}
	py.finish(t)

	// A waiting Python takes the lock once Go releases it, not before.
	py = startPython(t, "wait", b.Name(), "3")
	py.expect(t, "waiting")
	select {
	case s := <-py.lines:
		t.Fatalf("Python said %q while Go holds region 3", s)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tab.Unlock(3); err != nil {
		t.Fatal(err)
	}
	py.expect(t, "took")
	py.finish(t)
}

// A Go process and a Python process increment one counter with a plain
// read-modify-write under the region's lock; no increment is lost.
func TestGoAndPythonCountUnderLock(t *testing.T) {
	const n, region = 3000, 6
	b := newBlock(t, 8)
	tab := newTable(t, b)
	a, err := ndshm.View[int64](b)
	if err != nil {
		t.Fatal(err)
	}
	py := startPython(t, "count", b.Name(), strconv.Itoa(region), strconv.Itoa(n))
	py.expect(t, "ready")
	io.WriteString(py.stdin, "go\n")
	p := a.Addr(region)
	for range n {
		if err := tab.Lock(within(t, 10*time.Second), region); err != nil {
			t.Fatal(err)
		}
		v := *p
		time.Sleep(0) // widen the window a lost update needs
		*p = v + 1
		if err := tab.Unlock(region); err != nil {
			t.Fatal(err)
		}
	}
	py.finish(t)
	if got := a.At(region); got != 2*n {
		t.Fatalf("counter %d after %d Go and %d Python increments, want %d", got, n, n, 2*n)
	}
}

// A Python holder killed with SIGKILL releases its lock for Go promptly,
// even though a child it forked while holding the lock still lives.
func TestKilledPythonHolderReleases(t *testing.T) {
	b := newBlock(t, 8)
	tab := newTable(t, b)
	py := startPython(t, "hold", b.Name(), "w", "5", "6", "fork")
	kid, _ := strconv.Atoi(strings.Fields(py.expect(t, "held"))[1])
	if kid <= 0 {
		t.Fatalf("python forked no child: %d", kid)
	}
	t.Cleanup(func() { syscall.Kill(kid, syscall.SIGKILL) })

	done := make(chan error, 1)
	go func() { done <- tab.Lock(within(t, 30*time.Second), 5) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Lock returned %v while the Python holder lives", err)
	default:
	}
	killed := time.Now()
	py.cmd.Process.Kill()
	if err := <-done; err != nil {
		t.Fatalf("Lock after the Python holder was killed: %v", err)
	}
	if d := time.Since(killed); d > time.Second {
		t.Errorf("lock taken %v after SIGKILL of its Python holder, want promptly", d)
	}
	if err := syscall.Kill(kid, 0); err != nil {
		t.Errorf("the forked child is gone (%v): the test proves nothing", err)
	}
}

// Go and Python add into one histogram at once, Go for as long as Python
// runs; every addition lands.
func TestGoAndPythonAdd(t *testing.T) {
	const pyN = 20000
	sb, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{bins}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cb := newBlock(t, bins)
	sums, _ := ndshm.View[float64](sb)
	counts, _ := ndshm.View[int64](cb)

	py := startPython(t, "add", sb.Name(), cb.Name(), "7", strconv.Itoa(pyN))
	py.expect(t, "ready")
	exited := make(chan error, 1)
	io.WriteString(py.stdin, "go\n")
	go func() { py.stdin.Close(); exited <- py.cmd.Wait() }()
	rounds := 0
	for running := true; running; rounds++ {
		fill(sums, counts, 0)
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("python: %v", err)
			}
			running = false
		default:
		}
	}

	var wantSum [bins]float64
	var wantCount [bins]int64
	for i := range histLen {
		v := sample(0, i)
		wantSum[v%bins] += float64(rounds * v)
		wantCount[v%bins] += int64(rounds)
	}
	for i := range pyN {
		v := sample(7, i)
		wantSum[v%bins] += float64(v)
		wantCount[v%bins]++
	}
	t.Logf("%d Go rounds of %d adds beside %d Python adds", rounds, histLen, pyN)
	for k := range bins {
		if sums.At(k) != wantSum[k] || counts.At(k) != wantCount[k] {
			t.Errorf("bin %d: sum %v count %d, want %v and %d", k, sums.At(k), counts.At(k), wantSum[k], wantCount[k])
		}
	}
}

// What ndshm.RegionLock and ndshm.add accept and refuse, in Python.
func TestPythonLockChecks(t *testing.T) {
	b := newBlock(t, 4)
	tcs := []struct{ expr, want string }{
		{"ndshm.add(a, 1, 2) == 2 and ndshm.add(a, (1,), -5) == -3 and a[1] == -3 or 1/0", "ok"},
		{"ndshm.add(c, 3, 0.5) == 0.5 and ndshm.add(c, 3, 2) == 2.5 or 1/0", "ok"},
		{"ndshm.add(a, 0, 2**63)", "OverflowError"},
		{"ndshm.add(a, (0, 0), 1)", "IndexError"},
		{"ndshm.add(a, slice(0, 2), 1)", "TypeError"},
		{"ndshm.add(a.astype('i4'), 0, 1)", "TypeError"},
		{"ndshm.add(a.astype('>i8'), 0, 1)", "TypeError"},
		{"ndshm.add(ndshm.attach(name, readonly=True), 0, 1)", "ValueError"},
		{"ndshm.add(a.view('u1')[1:9].view('i8'), 0, 1)", "ValueError"},
		{"ndshm.lock._libatomic.__setitem__(slice(None), [OSError('gone')]) or ndshm.add(a, 0, 1)", "NotImplementedError"},
		{"ndshm.RegionLock(c, 0).acquire(0) or 1/0", "ok"},
		{"ndshm.RegionLock(a[2:], range(0, 4)).acquire(0) or 1/0", "ok"},
		{"ndshm.RegionLock(np.zeros(3), 0)", "ValueError"},
		{"ndshm.RegionLock(name, -1)", "ValueError"},
		{"ndshm.RegionLock(name, 2**62)", "ValueError"},
		{"ndshm.RegionLock(name, range(3, 3))", "ValueError"},
		{"ndshm.RegionLock(name, range(0, 4, 2))", "ValueError"},
		{"ndshm.RegionLock(name, 0).release()", "RuntimeError"},
		{"ndshm.RegionLock(name + '-none', 0).acquire()", "FileNotFoundError"},
	}
	args := []string{b.Name()}
	for _, tc := range tcs {
		args = append(args, tc.expr)
	}
	py := startPython(t, "checks", args...)
	for _, tc := range tcs {
		if got := py.expect(t, ""); strings.Fields(got)[0] != tc.want {
			t.Errorf("%s: %s, want %s", tc.expr, got, tc.want)
		}
	}
	py.finish(t)
}
