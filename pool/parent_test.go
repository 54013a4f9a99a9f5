package pool_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/shmtest"
)

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
