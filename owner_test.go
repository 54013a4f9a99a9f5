package ndshm_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func init() {
	// gc-one collects the orphan args[0] and prints what it did.
	roles["gc-one"] = func(args []string) int {
		got, err := ndshm.GC(ndshm.GCOptions{Match: func(n string) bool { return n == args[0] }})
		for _, c := range got {
			fmt.Printf("found %s removed=%v\n", c.Name, c.Removed)
		}
		if err != nil {
			fmt.Printf("error: %v\n", err)
		}
		return 0
	}
}

// A block another user owns is not mapped without AllowForeign: its
// owner could truncate it under the mapping. Describing it is fine.
func TestForeignBlock(t *testing.T) {
	user, uid, gid := shmtest.User(t)
	spec := ndshm.Spec{DType: ndshm.Float64, Shape: []int{4}}
	b := tBlock(t, spec, ndshm.Persistent())
	name := b.Name()
	removeAtEnd(t, name)
	if err := os.Chown(shmFile(name), uid, gid); err != nil {
		t.Fatal(err)
	}
	opens := map[string]func(...ndshm.Option) (*ndshm.Block, error){
		"Open":    func(o ...ndshm.Option) (*ndshm.Block, error) { return ndshm.Open(name, o...) },
		"OpenRaw": func(o ...ndshm.Option) (*ndshm.Block, error) { return ndshm.OpenRaw(name, spec, o...) },
	}
	for what, open := range opens {
		r, err := open()
		if r != nil {
			r.Close()
		}
		assertPathErr(t, err, "open", name, fs.ErrPermission)
		for _, want := range []string{"owned by uid " + strconv.Itoa(uid), "AllowForeign"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s of another user's block: %v; want it to say %q", what, err, want)
			}
		}
		r, err = open(ndshm.AllowForeign())
		if err != nil {
			t.Errorf("%s with AllowForeign: %v", what, err)
			continue
		}
		r.Close()
	}
	if info, err := ndshm.Stat(name); err != nil || info.Spec.Len() != 4 {
		t.Errorf("Stat of another user's block: %+v, %v", info, err)
	}
	// What the refusal guards against: the owner can shrink it at will.
	if out, err := exec.Command("runuser", "-u", user, "--", "truncate", "-s", "0", shmFile(name)).CombinedOutput(); err != nil {
		t.Fatalf("the owner truncating its block: %v\n%s", err, out)
	}
	if r, err := ndshm.Open(name, ndshm.AllowForeign()); err == nil {
		r.Close()
		t.Error("Open of a truncated block succeeded")
	}
}

// GC run by a user who may not remove another user's orphan reports it
// and leaves it, without failing: /dev/shm is sticky.
func TestGCForeignOrphan(t *testing.T) {
	_, uid, gid := shmtest.User(t)
	dead := orphan(t)
	if err := os.Chmod(shmFile(dead), 0o644); err != nil { // readable, so listed
		t.Fatal(err)
	}
	cmd := shmtest.Command("gc-one", dead)
	cmd.Path = copyForAll(t, cmd.Path)
	cmd.Args[0] = cmd.Path
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	out, err := cmd.Output()
	if got := string(out); err != nil || got != "found "+dead+" removed=false\n" {
		t.Errorf("gc as uid %d of root's orphan: %q, %v; want it found, kept, and no error", uid, got, err)
	}
	if _, err := ndshm.Stat(dead); err != nil {
		t.Errorf("root's orphan after another user's gc: %v", err)
	}
}

// copyForAll copies the executable at path where any user may run it.
func copyForAll(t *testing.T, path string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ndshm-test-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	dst := filepath.Join(dir, filepath.Base(path))
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err == nil {
		_, err = io.Copy(out, in)
		err = errors.Join(err, out.Close())
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
