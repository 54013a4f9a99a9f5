package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// testRoles are what a re-executed test binary can be asked to do, on
// top of the command's own roles (main.go), which include "ndshm", the
// command line in a process of its own.
var testRoles = map[string]func(args []string) int{
	"gc-creator": gcCreator,
	// create makes the block args[0], persistent if args[1] is "persistent",
	// and exits without closing it: a creator that died.
	"create": func(args []string) int {
		var opts []ndshm.Option
		if len(args) > 1 && args[1] == "persistent" {
			opts = append(opts, ndshm.Persistent())
		}
		if _, err := ndshm.Create(args[0], ndshm.Spec{DType: ndshm.Int32, Shape: []int{4}}, opts...); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			return 1
		}
		return 0
	},
}

func TestMain(m *testing.M) {
	// The command's helpers re-execute /proc/self/exe in a role; under
	// test that is this binary, so it must play them too.
	for name, f := range roles {
		testRoles[name] = f
	}
	shmtest.Main(m, testRoles)
}

// ndshmRun runs a command line in-process and returns its stdout, its
// stderr and its error.
func ndshmRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustRun runs a command line that must succeed and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := ndshmRun(t, args...)
	if err != nil {
		t.Fatalf("ndshm %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// decodeJSON decodes JSON output into a value of type T.
func decodeJSON[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	return v
}

// newName returns a fresh block name that is removed when the test ends,
// whatever the test did with it.
func newName(t *testing.T) string {
	name := shmtest.Name()
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	return name
}

// exists reports whether anything has the name in /dev/shm.
func exists(name string) bool {
	_, err := os.Lstat("/dev/shm/" + name)
	return err == nil
}

// makeBlock creates the persistent block name holding f(i) at flat index
// i, through the library, and returns the elements.
func makeBlock[T any](t *testing.T, name string, s ndshm.Spec, f func(i int) T) []T {
	t.Helper()
	b, err := ndshm.Create(name, s, ndshm.Persistent())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[T](b)
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = f(i)
	}
	return append([]T(nil), xs...)
}

// isUsage reports whether err is a usage error.
func isUsage(err error) bool {
	var ue *cmdflag.UsageError
	return errors.As(err, &ue)
}
