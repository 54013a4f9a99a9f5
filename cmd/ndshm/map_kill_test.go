package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// TestMapOutKilled kills `ndshm map --out` with SIGKILL while its workers
// write the result: no block may be left under the --out name unless it
// is complete, and gc leaves nothing of the run behind.
func TestMapOutKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("maps 64 MiB")
	}
	src, out := newName(t), newName(t)
	const n = 8 << 20 // 64 MiB of float64: the workers take a while
	mustRun(t, "create", src, "--dtype", "f8", "--shape", strconv.Itoa(n), "--fill", "4")
	cli := shmtest.Command("ndshm", "map", src, "--op", "sqrt", "--out", out, "--workers", "2")
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it as soon as a worker maps the destination: a second block
	// file, named or not, besides the source.
	var workers []int
	deadline := time.Now().Add(30 * time.Second)
	for {
		var mapping bool
		workers, mapping = destMapped(cli.Process.Pid, src)
		if mapping || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	cli.Process.Kill()
	cli.Wait()
	if len(workers) == 0 {
		t.Fatal("no worker mapped the destination within 30 s")
	}
	for _, w := range workers { // they exit when they see their parent gone
		for end := time.Now().Add(10 * time.Second); syscall.Kill(w, 0) == nil && time.Now().Before(end); {
			time.Sleep(time.Millisecond)
		}
	}
	if exists(out) {
		for i, x := range values(t, out) {
			if x != 2 {
				t.Fatalf("map killed mid-way left %s with element %d = %v: a half-written block", out, i, x)
			}
		}
		t.Log("the map finished before the kill: nothing half-written to find")
	}
	if _, err := ndshm.GC(ndshm.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if exists(out) {
		if b, err := ndshm.Open(out); err == nil {
			persistent := b.Info().Persistent
			b.Close()
			if !persistent {
				t.Errorf("gc left the orphan %s", out)
			}
		}
	}
}

// destMapped returns the children of the process pid, and whether one of
// them maps a block file in /dev/shm other than src.
func destMapped(pid int, src string) ([]int, bool) {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var kids []int
	mapped := false
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, w := range strings.Fields(string(b)) {
			k, _ := strconv.Atoi(w)
			kids = append(kids, k)
			maps, _ := os.ReadFile("/proc/" + w + "/maps")
			for _, line := range strings.Split(string(maps), "\n") {
				if i := strings.Index(line, "/dev/shm/"); i >= 0 && !strings.HasSuffix(line, "/dev/shm/"+src) {
					mapped = true
				}
			}
		}
	}
	return kids, mapped
}
