package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ndshm/ndshm/internal/shmtest"
)

// NDSHM_DIR moves every named-block operation to another directory, the
// same for the command line, the library (the orphan's creator) and
// Python; a process without it does not see the blocks there, and
// /dev/shm itself gets nothing. The directory is tried on a tmpfs and on
// the disk that holds the test's temporary files (O_TMPFILE, fallocate).
func TestBlockDir(t *testing.T) {
	bin := builtNdshm(t)
	for _, tc := range []struct {
		fs  string
		dir func(t *testing.T) string
	}{
		{"tmpfs", func(t *testing.T) string {
			// Named for this pid, so shmtest reports it if left behind.
			dir := "/dev/shm/ndshm-test-dir-" + strconv.Itoa(os.Getpid())
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}},
		{"disk", func(t *testing.T) string { return t.TempDir() }},
	} {
		t.Run(tc.fs, func(t *testing.T) {
			dir := tc.dir(t)
			before := shmTop(t, dir)
			testBlockDir(t, bin, dir)
			if after := shmTop(t, dir); !slices.Equal(before, after) {
				t.Errorf("/dev/shm changed with NDSHM_DIR=%s: before %v, after %v", dir, before, after)
			}
		})
	}
}

func testBlockDir(t *testing.T, bin, dir string) {
	name, orphan := shmtest.Name(), shmtest.Name()
	in := append(os.Environ(), "NDSHM_DIR="+dir)
	out := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NDSHM_DIR=") })
	run := func(env []string, args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
		err := cmd.Run()
		if err != nil {
			err = errors.New(err.Error() + ": " + stderr.String())
		}
		return stdout.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		s, err := run(in, args...)
		if err != nil {
			t.Fatalf("NDSHM_DIR=%s ndshm %q: %v", dir, args, err)
		}
		return s
	}
	listed := func(env []string) []string {
		t.Helper()
		s, err := run(env, "ls", "--json")
		if err != nil {
			t.Fatalf("ndshm ls --json: %v", err)
		}
		var names []string
		for _, b := range decodeJSON[[]struct{ Name string }](t, s) {
			names = append(names, b.Name)
		}
		return names
	}
	t.Cleanup(func() {
		// In /dev/shm too, where a broken NDSHM_DIR would put them.
		for _, p := range []string{dir, "/dev/shm"} {
			os.Remove(filepath.Join(p, name))
			os.Remove(filepath.Join(p, orphan))
		}
	})

	must("create", name, "--dtype", "i4", "--shape", "2,3", "--fill", "7")
	if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
		t.Fatalf("create made no %s in NDSHM_DIR: %v", name, err)
	}
	if exists(name) {
		t.Fatalf("create made %s in /dev/shm despite NDSHM_DIR", name)
	}
	if got := listed(in); !slices.Contains(got, name) {
		t.Errorf("ls --json with NDSHM_DIR lists %v, not %s", got, name)
	}
	if got := must("inspect", name); !strings.Contains(got, name) || !strings.Contains(got, "<i4") {
		t.Errorf("inspect %s: %q", name, got)
	}
	if got := must("stats", name); !strings.HasPrefix(got, "count 6  sum 42 ") {
		t.Errorf("stats %s: %q", name, got)
	}

	// Python attaches the Go-made block and lists it.
	script := "import sys, ndshm\na = ndshm.attach(sys.argv[1])\n" +
		"print(int(a.sum()), sys.argv[1] in [b['name'] for b in ndshm.list()], ndshm.SHM_DIR)"
	cmd := shmtest.PythonCommand(t, "-c", script, name)
	cmd.Env = append(cmd.Env, "NDSHM_DIR="+dir)
	if got, err := cmd.Output(); err != nil || string(got) != "42 True "+dir+"\n" {
		t.Errorf("python with NDSHM_DIR: %q, %v; want \"42 True %s\"", got, err, dir)
	}

	// Without the variable the block is not there.
	if got := listed(out); slices.Contains(got, name) {
		t.Errorf("ls --json without NDSHM_DIR lists %s", name)
	}
	if _, err := run(out, "stats", name); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("stats %s without NDSHM_DIR: %v; want no such file", name, err)
	}

	// An orphan made by the library in a process of its own; gc collects it.
	role := shmtest.Command("create", orphan)
	role.Env = append(role.Env, "NDSHM_DIR="+dir)
	if err := role.Run(); err != nil {
		t.Fatalf("creator of the orphan: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, orphan)); err != nil {
		t.Fatalf("the library made no %s in NDSHM_DIR: %v", orphan, err)
	}
	if got := must("gc"); !strings.Contains(got, orphan) {
		t.Errorf("gc with NDSHM_DIR: %q does not name %s", got, orphan)
	}
	must("rm", name)
	for _, n := range []string{name, orphan} {
		if _, err := os.Lstat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still in NDSHM_DIR after gc and rm: %v", n, err)
		}
	}
}

// A relative NDSHM_DIR is an error at the first use of a block, not a
// silent /dev/shm.
func TestBlockDirRelative(t *testing.T) {
	bin := builtNdshm(t)
	for _, args := range [][]string{{"ls"}, {"create", "x", "--dtype", "u1", "--shape", "1"}, {"rm", "x"}, {"gc"}, {"doctor"}} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Stderr = append(os.Environ(), "NDSHM_DIR=blocks"), &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), `NDSHM_DIR="blocks" is not an absolute path`) {
			t.Errorf("NDSHM_DIR=blocks ndshm %q: %v, stderr %q; want the relative path refused", args, err, stderr.String())
		}
	}
}

// shmTop lists this test process's names at /dev/shm's top level (other
// test binaries make blocks there at the same time), leaving out dir.
func shmTop(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if p := "/dev/shm/" + e.Name(); p != dir && strings.Contains(e.Name(), "-"+strconv.Itoa(os.Getpid())) {
			names = append(names, e.Name())
		}
	}
	return names
}
