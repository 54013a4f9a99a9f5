package pool_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/pool"
)

// arm makes the control block of the stall ops, armed, and returns the
// op parameter that names it and a function that waits for the stalled
// worker's pid.
func arm(t *testing.T) (string, func() int) {
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Int64, Shape: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	c, _ := ndshm.View[int64](b)
	c.Set(1, 0)
	wait := func() int {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if pid := atomic.LoadInt64(c.Addr(1)); pid != 0 {
				return int(pid)
			}
		}
		t.Fatal("no worker stalled")
		return 0
	}
	return fmt.Sprint(seqOf(t, b.Name())), wait
}

// ones makes a float64 block of n ones.
func ones(t *testing.T, n int) (*ndshm.Block, []float64) {
	b := newBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{n}}, false)
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = 1
	}
	return b, xs
}

// killMidTask runs f (a Map) while a stall op hangs in a worker, kills
// that worker with SIGKILL, and returns f's error and the pid killed.
func killMidTask(t *testing.T, f func(seq string) error) (error, int) {
	seq, wait := arm(t)
	done := make(chan error, 1)
	go func() { done <- f(seq) }()
	pid := wait()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		return err, pid
	case <-time.After(10 * time.Second):
		t.Fatal("the call hung after its worker was killed")
		return nil, 0
	}
}

// An idempotent op whose worker dies mid-task is redone on a new worker:
// the right answer, from a pool that has replaced the worker.
func TestKillWorkerIdempotent(t *testing.T) {
	p := newProcs(t, 2)
	b, xs := ones(t, 1000)
	err, pid := killMidTask(t, func(seq string) error { return p.Map(context.Background(), b, "test-stall="+seq) })
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if x != 7 {
			t.Fatalf("element %d is %v, want 7", i, x)
		}
	}
	if slices.Contains(p.Pids(), pid) || len(p.Pids()) != 2 {
		t.Errorf("pids %v after %d was killed", p.Pids(), pid)
	}
}

// MapTo only reads its source: a partition whose worker died is redone,
// even for an op that is not idempotent.
func TestKillWorkerMapTo(t *testing.T) {
	p := newProcs(t, 2)
	src, _ := ones(t, 1000)
	dst := newBlock(t, src.Spec(), true)
	err, _ := killMidTask(t, func(seq string) error {
		return p.MapTo(context.Background(), src, dst, "test-stall-unsafe="+seq)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range contents[float64](t, dst) {
		if x != 2 {
			t.Fatalf("element %d is %v, want 2", i, x)
		}
	}
}

// An in-place op that is not idempotent cannot be redone: the error names
// the partition and how its worker died.
func TestKillWorkerUnsafe(t *testing.T) {
	p := newProcs(t, 2)
	b, _ := ones(t, 1000)
	err, pid := killMidTask(t, func(seq string) error { return p.Map(context.Background(), b, "test-stall-unsafe="+seq) })
	var pe *pool.PartitionError
	if !errors.As(err, &pe) || !errors.Is(err, pool.ErrWorkerDied) || pe.Pid != pid {
		t.Fatalf("got %v, want a PartitionError for worker %d", err, pid)
	}
	want := fmt.Sprintf("partition %d [%d, %d): worker %d died: signal: killed", pe.Index, 500*pe.Index, 500*pe.Index+500, pid)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
	if err := p.Map(context.Background(), b, "fill=3"); err != nil {
		t.Errorf("the pool did not recover: %v", err)
	}
}

// A worker that died between calls is replaced without an error.
func TestKillIdleWorker(t *testing.T) {
	p := newProcs(t, 2)
	b, xs := ones(t, 100)
	dead := p.Pids()[0]
	syscall.Kill(dead, syscall.SIGKILL)
	time.Sleep(50 * time.Millisecond)
	if err := p.Map(context.Background(), b, "scale=2"); err != nil {
		t.Fatal(err)
	}
	if xs[0] != 2 || xs[99] != 2 || slices.Contains(p.Pids(), dead) {
		t.Errorf("after the idle worker died: %v, %v, pids %v", xs[0], xs[99], p.Pids())
	}
}

// A task past its deadline kills its worker and fails, quickly.
func TestTaskTimeout(t *testing.T) {
	for _, opts := range [][]pool.Option{
		{pool.TaskTimeout(300 * time.Millisecond)},
		{pool.TaskTimeout(300 * time.Millisecond), roleCommand("mute")}, // never answers
	} {
		p := newProcs(t, 2, opts...)
		b, _ := ones(t, 10)
		start := time.Now()
		err := p.Map(context.Background(), b, "test-sleep=30")
		if !errors.Is(err, pool.ErrTimeout) || !strings.Contains(err.Error(), "exceeded the task deadline of 300ms and was killed") {
			t.Errorf("got %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the timeout took %v", d)
		}
	}
}

// Misbehaving workers are killed and reported; New refuses one that
// does not say hello properly, leaving no process behind.
func TestMisbehavingWorkers(t *testing.T) {
	b, _ := ones(t, 10)
	for _, tc := range []struct {
		role string
		want error
		text string
	}{
		{"garbage", pool.ErrProtocol, "malformed frame"},
		{"oversize", pool.ErrProtocol, "packet of more than"},
		{"closer", pool.ErrWorkerDied, "closed its end of the channel"},
		{"forker", pool.ErrWorkerDied, "exit status 3"}, // a child keeps its socket open: the pidfd tells
	} {
		p := newProcs(t, 1, roleCommand(tc.role))
		for range 2 { // the replacement misbehaves too
			start := time.Now()
			err := p.Map(context.Background(), b, "fill=2")
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s: got %v, want %v with %q", tc.role, err, tc.want, tc.text)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s: took %v", tc.role, d)
			}
		}
	}
	if _, err := pool.New(2, roleCommand("badhello")); !errors.Is(err, pool.ErrProtocol) {
		t.Errorf("New with a bad hello: %v", err)
	}
}

// A cancelled context stops a call: worker processes are killed at once;
// goroutines finish their partition but start no other.
func TestContextCancel(t *testing.T) {
	for _, p := range []*pool.Pool{newProcs(t, 2), pool.Goroutines(2, pool.ChunkRows(1))} {
		b, _ := ones(t, 10)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		err := p.Map(ctx, b, "test-sleep=0.3") // 1.5 s for goroutines in all
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "partitions done") {
			t.Errorf("%s: got %v", poolName(p), err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: cancel took %v", poolName(p), d)
		}
		if err := p.Map(context.Background(), b, "fill=1"); err != nil {
			t.Errorf("%s: after cancel: %v", poolName(p), err)
		}
	}
}

// Workers whose parent is killed (SIGKILL: no cleanup of any kind) see
// EOF on their channel and are gone within a second, idle or in the
// middle of a task.
func TestParentKilled(t *testing.T) {
	for _, mode := range []string{"idle", "busy"} {
		cmd := shmtest.Command("parent", mode)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		var pids []int
		for _, f := range strings.Fields(line) {
			pid, _ := strconv.Atoi(f)
			pids = append(pids, pid)
		}
		t.Cleanup(func() {
			for _, pid := range pids {
				if !gone(pid) {
					syscall.Kill(pid, syscall.SIGKILL) // our grandchild, left over
				}
			}
		})
		cmd.Process.Kill()
		cmd.Wait()
		if err != nil || len(pids) != 2 {
			t.Fatalf("%s: parent printed %q: %v", mode, line, err)
		}
		killed := time.Now()
		for _, pid := range pids {
			for !gone(pid) && time.Since(killed) < time.Second {
				time.Sleep(5 * time.Millisecond)
			}
			if !gone(pid) {
				t.Errorf("%s: worker %d outlived its parent by a second", mode, pid)
			}
		}
	}
}

// gone reports whether pid has exited: no such process, or a zombie
// waiting for whoever adopted it.
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) == 0 || f[0] == "Z" || f[0] == "X"
}
