package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

func TestRm(t *testing.T) {
	a, b := newName(t), newName(t)
	for _, n := range []string{a, b} {
		mustRun(t, "create", n, "--dtype", "f4", "--shape", "2")
	}
	if out := mustRun(t, "rm", a, "/dev/shm/"+b); out != "" {
		t.Errorf("rm printed %q", out)
	}
	if exists(a) || exists(b) {
		t.Errorf("rm left %s or %s", a, b)
	}
}

func TestRmRefusesForeign(t *testing.T) {
	for _, content := range []string{"", "another program's shared memory, not an ndshm block"} {
		name := newName(t)
		if err := os.WriteFile("/dev/shm/"+name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := ndshmRun(t, "rm", name)
		if !errors.Is(err, ndshm.ErrFormat) || !strings.Contains(err.Error(), "--force") || !exists(name) {
			t.Errorf("rm of a foreign file: %v; exists %v", err, exists(name))
		}
		mustRun(t, "rm", "--force", name)
		if exists(name) {
			t.Errorf("rm --force left %s", name)
		}
	}
}

func TestRmKeepsGoing(t *testing.T) {
	missing, foreign, block := newName(t), newName(t), newName(t)
	if err := os.WriteFile("/dev/shm/"+foreign, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "create", block, "--dtype", "i8", "--shape", "1")
	_, _, err := ndshmRun(t, "rm", missing, foreign, block, "a/b")
	if err == nil || isUsage(err) || !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, ndshm.ErrFormat) {
		t.Fatalf("rm of missing, foreign, block, invalid: %v", err)
	}
	// One line per failure, each naming its name.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], missing) || !strings.Contains(lines[1], foreign) || !strings.Contains(lines[2], "a/b") {
		t.Errorf("rm reported:\n%v", err)
	}
	if exists(block) || !exists(foreign) {
		t.Errorf("rm: block exists %v, foreign exists %v", exists(block), exists(foreign))
	}
}
