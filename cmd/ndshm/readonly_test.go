package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// Commands that only read a block need only read permission on it: run
// as a user who may read but not write a 0644 block, they succeed, and
// one that writes is refused.
func TestReadOnlyCommands(t *testing.T) {
	bin := builtNdshm(t)
	// The binary's temporary directory is the test user's only; let the
	// other user run it.
	if err := os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755); err != nil {
		t.Fatal(err)
	}
	_, uid, gid := shmtest.User(t)
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4}}, func(i int) float64 { return float64(i) })
	if err := os.Chmod("/dev/shm/"+name, 0o644); err != nil {
		t.Fatal(err)
	}
	var npy bytes.Buffer
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	b.WriteTo(&npy)
	b.Close()
	for _, c := range []struct {
		args   []string
		stdout string // a prefix; "" for a refusal
		stderr string // a substring of a refusal
	}{
		{args: []string{"stats", name}, stdout: "count 4  sum 6  min 0  max 3 "},
		{args: []string{"stats", name, "--workers", "1"}, stdout: "count 4  sum 6  min 0  max 3 "},
		{args: []string{"reduce", name, "--op", "sum", "--workers", "1"}, stdout: "6"},
		{args: []string{"save", name, "-"}, stdout: npy.String()},
		{args: []string{"inspect", name, "--dtype", "f8", "--shape", "4"}, stdout: "name"},
		{args: []string{"map", name, "--op", "fill=2", "--workers", "1"}, stderr: "permission denied"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		switch {
		case c.stdout != "" && (err != nil || !strings.HasPrefix(stdout.String(), c.stdout)):
			t.Errorf("ndshm %q as uid %d: %v\nstdout: %.200q\nstderr: %s", c.args, uid, err, stdout.String(), stderr.String())
		case c.stdout == "" && (err == nil || !strings.Contains(stderr.String(), c.stderr)):
			t.Errorf("ndshm %q as uid %d: %v, stderr %q; want a refusal saying %q", c.args, uid, err, stderr.String(), c.stderr)
		}
	}
	if out := mustRun(t, "stats", name); !strings.HasPrefix(out, "count 4  sum 6 ") {
		t.Errorf("stats after the other user's commands: %q", out)
	}
}
