package ndshm_test

import (
	"bufio"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// pyCreator starts python making the block name (persistent or owned),
// and returns once the block exists; the process then waits on stdin.
func pyCreator(t *testing.T, name string, persistent bool) *exec.Cmd {
	t.Helper()
	script := `import sys, ndshm
a = ndshm.create(sys.argv[1], (4, 4), 'f8', persistent=sys.argv[2] == 'p')
print('ready', flush=True)
sys.stdin.read()
`
	mode := "o"
	if persistent {
		mode = "p"
	}
	cmd := shmtest.PythonCommand(t, "-c", script, name, mode)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait(); ndshm.Unlink(name) })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("python creator said %q", line)
	}
	return cmd
}

// A block Python creates is owned unless asked otherwise, with Go's
// liveness lock: while its creator lives it is no orphan; killed with
// SIGKILL, the creator leaves an orphan that GC removes. A persistent one
// survives both. A creator that exits normally unlinks its owned block.
func TestPythonOwnedBlockKill9(t *testing.T) {
	for _, persistent := range []bool{false, true} {
		name := shmtest.Name()
		cmd := pyCreator(t, name, persistent)
		info, err := ndshm.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Persistent != persistent || info.Orphan() || !persistent && !info.CreatorAlive {
			t.Fatalf("persistent=%v: live creator's block: %+v", persistent, info)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if info, err = ndshm.Stat(name); err != nil {
			t.Fatal(err)
		}
		if info.Orphan() == persistent {
			t.Fatalf("persistent=%v: after SIGKILL Orphan() = %v", persistent, info.Orphan())
		}
		got, err := ndshm.GC(ndshm.GCOptions{Match: func(n string) bool { return n == name }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ndshm.Stat(name)
		if persistent {
			if len(got) != 0 || err != nil {
				t.Fatalf("GC of a persistent block: %+v, then Stat: %v", got, err)
			}
			ndshm.Unlink(name)
		} else if len(got) != 1 || !got[0].Removed || err == nil {
			t.Fatalf("GC of the orphan: %+v, then Stat: %v", got, err)
		}
	}
	name := shmtest.Name()
	python(t, nil, `a = ndshm.create(sys.argv[1], 3, 'u1')
b = ndshm.create(sys.argv[1] + '-closed', 3, 'u1')
assert ndshm.close(sys.argv[1] + '-closed') and not ndshm.close(sys.argv[1] + '-closed')
print('null')`, name)
	for _, n := range []string{name, name + "-closed"} {
		if _, err := ndshm.Stat(n); err == nil || !strings.Contains(err.Error(), "no such file") {
			ndshm.Unlink(n)
			t.Fatalf("%s after its creator closed or exited: %v", n, err)
		}
	}
}
