package pool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// Bad ops fail before anything is written, in every kind of pool.
func TestOpErrors(t *testing.T) {
	for _, p := range []*pool.Pool{pool.Serial(), newProcs(t, 2)} {
		f64, xs := ones(t, 10)
		i32 := newBlock(t, ndshm.Spec{DType: ndshm.Int32, Shape: []int{10}}, true)
		for _, tc := range []struct {
			b      *ndshm.Block
			op     string
			reduce bool
			want   error
			text   string
		}{
			{f64, "sqr", false, pool.ErrUnknownOp, `unknown op "sqr" (known: affine, clip,`},
			{i32, "sqrt", false, ndshm.ErrDType, `op sqrt does not apply to dtype <i4: it runs on f4, f8 in native byte order`},
			{f64, "affine=2", false, pool.ErrParams, "affine takes 2 parameter(s), affine=a,b"},
			{f64, "affine=2,x", false, pool.ErrParams, `parameter 2, "x", is not a number`},
			{f64, "scale=1,2,3,4,5", false, pool.ErrParams, "5 parameters, at most 4"},
			{f64, "sqrt=1", false, pool.ErrParams, "sqrt takes no parameters"},
			{f64, "clip=3,1", false, pool.ErrParams, "lo <= hi"},
			{i32, "scale=1.5", false, pool.ErrParams, "1.5 is not a whole number"},
			{i32, "fill=1e10", false, pool.ErrParams, "not a whole number in the range of <i4"},
			{f64, "histogram=0,0,1", true, pool.ErrParams, "bins must be"},
			{f64, "histogram=5,1,1", true, pool.ErrParams, "finite lo < hi"},
			{f64, "a b", false, pool.ErrParams, "name must be"},
			{f64, "test-positive=-1", false, pool.ErrParams, "one positive parameter"},
			{f64, "sum", false, pool.ErrUnknownOp, `unknown op for Map: "sum" is a reduction (run it with Reduce)`},
			{f64, "sqrt", true, pool.ErrUnknownOp, `unknown op for Reduce: "sqrt" writes the array (run it with Map)`},
		} {
			var err error
			if tc.reduce {
				_, err = p.Reduce(context.Background(), tc.b, tc.op)
			} else {
				err = p.Map(context.Background(), tc.b, tc.op)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s %s: got %v, want %v with %q", poolName(p), tc.op, err, tc.want, tc.text)
			}
		}
		for i, x := range xs {
			if x != 1 {
				t.Fatalf("%s: element %d became %v", poolName(p), i, x)
			}
		}
	}
}

// An op's own failure, or its panic, fails the partition with what the op
// said; neither kills the caller or the worker.
func TestOpFailure(t *testing.T) {
	for _, p := range []*pool.Pool{pool.Goroutines(2), newProcs(t, 2)} {
		b, _ := ones(t, 10)
		pids := p.Pids()
		for op, want := range map[string]string{
			"test-fail":  "the op says no",
			"test-panic": "panic: assignment to entry in nil map at main_test.go:",
		} {
			err := p.Map(context.Background(), b, op)
			var pe *pool.PartitionError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: got %v, want %q", poolName(p), op, err, want)
			}
		}
		if got := p.Pids(); len(got) != len(pids) || len(got) > 0 && got[0] != pids[0] {
			t.Errorf("%s: workers changed from %v to %v", poolName(p), pids, got)
		}
	}
}

func TestClosed(t *testing.T) {
	p := newProcs(t, 1)
	b, _ := ones(t, 4)
	b.Close()
	if err := p.Map(context.Background(), b, "sqrt"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Map of a closed block: %v", err)
	}
	b, _ = ones(t, 4)
	if err := p.Map(context.Background(), b, "sqrt"); err != nil {
		t.Fatal(err)
	}
	b.Close() // after the pool and its worker took it up
	if err := p.Map(context.Background(), b, "sqrt"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Map of a block closed since its last Map: %v", err)
	}
	b, _ = ones(t, 4)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Map(context.Background(), b, "sqrt"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Map on a closed pool: %v", err)
	}
	if p.Pids() != nil {
		t.Errorf("a closed pool has workers %v", p.Pids())
	}
}

// A block truncated under a worker's mapping faults when the worker
// touches it: the call fails saying so, in the CLI's words, not as a nil
// pointer dereference; in goroutine pools too.
func TestTruncatedBlock(t *testing.T) {
	for _, p := range []*pool.Pool{pool.Goroutines(1), newProcs(t, 1)} {
		b, _ := ones(t, 1<<16)
		if _, err := p.Reduce(context.Background(), b, "sum"); err != nil {
			t.Fatal(err) // the worker maps the block, and keeps it mapped
		}
		if err := os.Truncate("/dev/shm/"+b.Name(), 0); err != nil {
			t.Fatal(err)
		}
		_, err := p.Reduce(context.Background(), b, "sum")
		if err == nil || !strings.Contains(err.Error(), "memory fault") ||
			!strings.Contains(err.Error(), "did another process truncate the block?") || strings.Contains(err.Error(), "nil pointer") {
			t.Errorf("%s: sum of a truncated block: %v", poolName(p), err)
		}
	}
}

// mapped reports whether process pid maps the named block: by inode,
// since the mapping's path is that of the unnamed file the block was
// made as.
func mapped(t *testing.T, pid int, name string) bool {
	st, err := os.Stat("/dev/shm/" + name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	ino := strconv.FormatUint(st.Sys().(*syscall.Stat_t).Ino, 10)
	for line := range strings.SplitSeq(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && f[4] == ino {
			return true
		}
	}
	return false
}

// A worker keeps the last four blocks mapped between calls, and drops a
// block at once on Release.
func TestWorkerKeepsBlocks(t *testing.T) {
	p := newProcs(t, 1)
	ctx := context.Background()
	var blocks []*ndshm.Block
	for range 5 {
		b := newBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4}}, false)
		if err := p.Map(ctx, b, "fill=1"); err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	pid := p.Pids()[0]
	if _, err := p.RoundTrip(ctx); err != nil { // the worker has read every frame before it
		t.Fatal(err)
	}
	for i, b := range blocks {
		if got := mapped(t, pid, b.Name()); got != (i > 0) {
			t.Errorf("block %d mapped: %v", i, got)
		}
	}
	p.Release(blocks[4])
	if _, err := p.RoundTrip(ctx); err != nil {
		t.Fatal(err)
	}
	if mapped(t, pid, blocks[4].Name()) || !mapped(t, pid, blocks[3].Name()) {
		t.Error("Release did not unmap exactly its block")
	}
	if err := p.Map(ctx, blocks[4], "fill=2"); err != nil { // handed over afresh
		t.Fatal(err)
	}
	pool.Goroutines(1).Release(blocks[4]) // harmless
}

// Progress reports every partition once, with its rows, in every kind of
// pool and for maps and reductions alike.
func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var calls, rows int
	count := pool.Progress(func(n int) {
		mu.Lock()
		defer mu.Unlock()
		calls, rows = calls+1, rows+n
	})
	for _, tc := range []struct {
		p     *pool.Pool
		parts int
	}{
		{newProcs(t, 2, count, pool.ChunkRows(3)), 4},
		{pool.Goroutines(3, count), 3},
		{pool.Serial(count, pool.ChunkRows(4)), 3},
	} {
		b, _ := ones(t, 10)
		for _, reduce := range []bool{false, true} {
			calls, rows = 0, 0
			var err error
			if reduce {
				_, err = tc.p.Reduce(context.Background(), b, "sum")
			} else {
				err = tc.p.Map(context.Background(), b, "scale=2")
			}
			if err != nil || calls != tc.parts || rows != 10 {
				t.Errorf("%s (reduce %v): %v; %d calls for %d rows, want %d for 10", poolName(tc.p), reduce, err, calls, rows, tc.parts)
			}
		}
	}
}
