package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// Commands that map a block refuse another user's unless
// --allow-foreign; describing it from its header needs no flag.
func TestAllowForeign(t *testing.T) {
	_, uid, gid := shmtest.User(t)
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4}}, func(i int) float64 { return 1 })
	if err := os.Chown("/dev/shm/"+name, uid, gid); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"stats", name},
		{"stats", name, "--dtype", "f8", "--shape", "4"},
		{"inspect", name, "--dtype", "f8", "--shape", "4"},
		{"save", name, t.TempDir() + "/x.npy"},
		{"map", name, "--op", "fill=2", "--workers", "1"},
	} {
		_, _, err := ndshmRun(t, args...)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "--allow-foreign") {
			t.Errorf("ndshm %q on another user's block: %v; want a permission error naming --allow-foreign", args, err)
		}
		args = append(args, "--allow-foreign")
		if strings.HasSuffix(args[2], ".npy") {
			args[2] += "2"
		}
		if _, stderr, err := ndshmRun(t, args...); err != nil {
			t.Errorf("ndshm %q: %v\n%s", args, err, stderr)
		}
	}
	if out := mustRun(t, "stats", name, "--allow-foreign"); !strings.HasPrefix(out, "count 4  sum 8 ") {
		t.Errorf("stats after map --allow-foreign fill=2: %q", out)
	}
	mustRun(t, "inspect", name)
}
