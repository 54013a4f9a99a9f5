package pool_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

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
