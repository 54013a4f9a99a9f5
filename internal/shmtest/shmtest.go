// Package shmtest is the harness of ndshm's multi-process tests: it
// re-executes the test binary in a role, finds a real NumPy, and makes
// each test binary prove it left /dev/shm and the process table as it
// found them.
package shmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ndshm/ndshm/internal/reexec"
)

// Main runs the tests, or, in a child that Command started, the role it
// was started for (its exit status is the child's). It fails the run if
// a test left anything new in /dev/shm or a child process behind.
func Main(m *testing.M, roles map[string]func(args []string) int) {
	table := make(map[string]reexec.Func, len(roles))
	for name, f := range roles {
		table[name] = f
	}
	reexec.Main(table)
	before := shmNames()
	code := m.Run()
	if left := ours(newNames(before, shmNames())); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: tests left %v in /dev/shm\n", left)
		code = 1
	}
	if kids := Children(); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: tests left child processes %v\n", kids)
		code = 1
	}
	os.Exit(code)
}

// Command returns a command that re-executes this test binary in role
// (reexec.Command), with args. Its standard error is the test's.
func Command(role string, args ...string) *exec.Cmd {
	cmd := reexec.Command(role, args...)
	if os.Getenv("GORACE") == "" {
		// A race-enabled child otherwise sleeps a second at exit.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd
}

var seq atomic.Int64

// ours keeps the names that carry this process's pid, as every name from
// Name does: other packages' test binaries run at the same time and make
// blocks of their own.
func ours(names []string) []string {
	pid := "-" + strconv.Itoa(os.Getpid())
	var out []string
	for _, n := range names {
		if i := strings.Index(n, pid); i >= 0 {
			if rest := n[i+len(pid):]; rest == "" || rest[0] == '-' {
				out = append(out, n)
			}
		}
	}
	return out
}

// Name returns a block name unique to this test process. Tests must name
// their blocks with it (or otherwise include "-PID"), so that Main can
// tell their leftovers from other test binaries' blocks.
func Name() string {
	return fmt.Sprintf("ndshm-test-%d-%d", os.Getpid(), seq.Add(1))
}

// EnvPython names the environment variable that, when set, is the path of
// a Python interpreter with the package ndshm installed: `make test` sets
// it to a throw-away venv's python, so the tests run the package as pip
// installed it rather than the checkout's python/ directory.
const EnvPython = "NDSHM_PYTHON"

// Python returns the interpreter for the Python side of the tests: the
// one EnvPython names, else Debian's /usr/bin/python3. Without NumPy the
// test is skipped, or fails when CI is set: CI must never pass by
// skipping the cross-language tests.
func Python(t testing.TB) string {
	py := os.Getenv(EnvPython)
	if py == "" {
		py = "/usr/bin/python3"
	}
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs %s with numpy (make test installs python3-numpy): %v", py, err)
		}
		t.Skipf("%s has no numpy: %v", py, err)
	}
	return py
}

// PythonCommand returns a command that runs Python (see Python) with
// args and the package ndshm importable, so "-m", "ndshm", ... runs its
// command line and "-c", script runs a script that imports ndshm. Its Env
// is set: add to it rather than replace it.
//
// Where EnvPython is set the package is the installed one: PYTHONPATH is
// dropped and PYTHONSAFEPATH set, so neither the environment nor the
// working directory can put another copy first. Otherwise the package
// comes from the checkout's python/ directory, through PYTHONPATH.
func PythonCommand(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	py := Python(t)
	cmd := exec.Command(py, args...)
	if os.Getenv(EnvPython) != "" {
		cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "PYTHONPATH=")
		}), "PYTHONSAFEPATH=1")
		return cmd
	}
	dir := pythonDir(t)
	if old := os.Getenv("PYTHONPATH"); old != "" {
		dir += string(os.PathListSeparator) + old
	}
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
	return cmd
}

// pythonDir returns the directory that holds the Python package ndshm,
// looking up from the test's directory.
func pythonDir(t testing.TB) string {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != "/"; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "python")
		if _, err := os.Stat(filepath.Join(p, "ndshm", "__init__.py")); err == nil {
			return p
		}
	}
	t.Fatal("python/ndshm/__init__.py not found above the test's directory")
	return ""
}

func shmNames() []string {
	ents, _ := os.ReadDir("/dev/shm")
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names
}

func newNames(before, after []string) []string {
	var left []string
	for _, n := range after {
		if !slices.Contains(before, n) {
			left = append(left, n)
		}
	}
	return left
}

// Children lists the pids whose parent is this process, zombies included.
func Children() []int {
	self := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == self {
			kids = append(kids, pid)
		}
	}
	return kids
}
