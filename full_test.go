package ndshm_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// fullEPERM is the exit status of the full-shm role when it may not mount.
const fullEPERM = 3

func init() {
	// full-shm: in a private mount namespace, put a 1 MiB tmpfs over
	// /dev/shm and check what Create does when it fills up. It prints one
	// line per failed check and exits 1 if any failed.
	roles["full-shm"] = func([]string) int {
		if err := syscall.Mount("tmpfs", shmDir, "tmpfs", 0, "size=1m"); err != nil {
			if errors.Is(err, syscall.EPERM) {
				fmt.Println("mount:", err)
				return fullEPERM
			}
			fmt.Println("mount:", err)
			return 1
		}
		failed := false
		fail := func(format string, args ...any) {
			fmt.Printf(format+"\n", args...)
			failed = true
		}
		var fs0 syscall.Statfs_t
		if err := syscall.Statfs(shmDir, &fs0); err != nil || int64(fs0.Blocks)*fs0.Bsize != 1<<20 {
			fail("statfs: %v, %d blocks of %d: not the 1 MiB tmpfs", err, fs0.Blocks, fs0.Bsize)
			return 1
		}
		// empty checks that /dev/shm holds nothing and all its space is free.
		empty := func(when string) {
			ents, err := os.ReadDir(shmDir)
			if err != nil || len(ents) != 0 {
				fail("%s: /dev/shm holds %v (%v)", when, ents, err)
			}
			var st syscall.Statfs_t
			syscall.Statfs(shmDir, &st)
			if st.Bfree != fs0.Bfree {
				fail("%s: %d blocks free, %d before", when, st.Bfree, fs0.Bfree)
			}
		}

		for _, opts := range [][]ndshm.Option{nil, {ndshm.Persistent()}} {
			name := shmtest.Name()
			t0 := time.Now()
			b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{8 << 20}}, opts...)
			if b != nil {
				b.Close()
				ndshm.Unlink(name)
				fail("Create of 8 MiB on a 1 MiB /dev/shm succeeded")
			}
			var pe *fs.PathError
			if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &pe) || pe.Path != name {
				fail("Create of 8 MiB on a 1 MiB /dev/shm: %v, want a PathError wrapping ENOSPC", err)
			}
			if d := time.Since(t0); d > 5*time.Second {
				fail("Create took %v to fail", d)
			}
			empty("after the failed Create")
		}

		// 256 KiB fits, and is all usable.
		name := shmtest.Name()
		b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{32 << 10}})
		if err != nil {
			fail("Create of 256 KiB on a 1 MiB /dev/shm: %v", err)
			return 1
		}
		a, err := ndshm.View[float64](b)
		if err != nil {
			fail("View: %v", err)
		}
		f, _ := a.Flat()
		for i := range f {
			f[i] = float64(i)
		}
		// A second block that no longer fits fails the same way, while the
		// first is held.
		c, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{800 << 10}})
		if c != nil {
			c.Close()
			fail("a second block past the tmpfs size succeeded")
		} else if !errors.Is(err, syscall.ENOSPC) {
			fail("a second block past the tmpfs size: %v, want ENOSPC", err)
		}
		if ents, _ := os.ReadDir(shmDir); len(ents) != 1 || ents[0].Name() != name {
			fail("/dev/shm holds %v, want only %s", ents, name)
		}
		if info, err := ndshm.Stat(name); err != nil || !info.CreatorAlive {
			fail("Stat of the 256 KiB block: %+v, %v", info, err)
		}
		if f[len(f)-1] != float64(len(f)-1) {
			fail("the 256 KiB block lost its data")
		}
		if err := b.Close(); err != nil {
			fail("Close: %v", err)
		}
		empty("after Close")
		// Anonymous blocks do not live in /dev/shm.
		if b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4 << 20}}); err != nil {
			fail("CreateAnon of 4 MiB: %v", err)
		} else {
			b.Close()
		}
		if failed {
			return 1
		}
		fmt.Println("ok")
		return 0
	}
}

func TestFullShm(t *testing.T) {
	cmd := shmtest.Command("full-shm")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.Output()
	var ee interface{ ExitCode() int }
	switch {
	case err == nil && string(out) == "ok\n":
		t.Logf("child in its own mount namespace: %s", out)
	case errors.Is(err, syscall.EPERM):
		t.Skipf("cannot make a mount namespace: %v", err)
	case errors.As(err, &ee) && ee.ExitCode() == fullEPERM:
		t.Skipf("cannot mount a tmpfs over /dev/shm: %s", strings.TrimSpace(string(out)))
	default:
		t.Errorf("child: %v\n%s", err, out)
	}
}

// A block larger than all of /dev/shm fails at once with ENOSPC.
func TestCreateLargerThanShm(t *testing.T) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(shmDir, &st); err != nil {
		t.Fatal(err)
	}
	total := int64(st.Blocks) * st.Bsize
	if total == 0 {
		t.Skip("/dev/shm has no size limit")
	}
	want := total + 64<<20
	if want >= 1<<46 {
		t.Skipf("/dev/shm is %d bytes, past the largest block", total)
	}
	for _, c := range []struct {
		what string
		spec ndshm.Spec
	}{
		{"bytes", ndshm.Spec{DType: ndshm.Uint8, Shape: []int{int(want)}}},
		{"2-d", ndshm.Spec{DType: ndshm.Float64, Shape: []int{int(want / 8 / 1024), 1024}, Fortran: true}},
	} {
		name := shmtest.Name()
		t0 := time.Now()
		b, err := ndshm.Create(name, c.spec)
		d := time.Since(t0)
		if b != nil {
			b.Close()
			t.Fatalf("Create of %d bytes on a %d-byte /dev/shm succeeded", want, total)
		}
		assertPathErr(t, err, "create", name, syscall.ENOSPC)
		if d > 5*time.Second {
			t.Errorf("Create took %v to fail", d)
		}
		if exists(t, name) {
			t.Errorf("the failed Create left %q", name)
			ndshm.Unlink(name)
		}
	}
}
