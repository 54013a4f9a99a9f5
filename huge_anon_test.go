package ndshm_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
)

const shmemEnabled = "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

// CreateAnon takes huge pages from the hugetlb pool when it has them,
// and from memfds that shmem_enabled lets have them; each setting is
// restored when its subtest ends. A pool the kernel cannot fill leaves
// the block on 4 KiB pages, never an error.
func TestHugeAnon(t *testing.T) {
	shmtest.Root(t, "set the hugetlb pool and shmem_enabled")
	for _, tc := range []struct{ name, file, value string }{
		{"hugetlb", "/proc/sys/vm/nr_hugepages", "64"},
		{"shmem advise", shmemEnabled, "advise"},
		{"shmem within_size", shmemEnabled, "within_size"},
		{"shmem never", shmemEnabled, "never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setKnob(t, tc.file, tc.value)
			free, size := sys.HugetlbFree()
			want := tc.value == "advise" || tc.value == "within_size" ||
				(tc.name == "hugetlb" && size > 0 && free*size >= unpadded)
			a, err := ndshm.CreateAnon(hugeSpec)
			if err != nil {
				t.Fatalf("CreateAnon: %v", err)
			}
			defer a.Close()
			info := a.Info()
			if info.HugePages != want && !(tc.value == "never" && sys.DirHuge()) {
				t.Errorf("%s=%s (hugetlb: %d free pages): HugePages %v, want %v", tc.file, tc.value, free, info.HugePages, want)
			}
			if want && info.FileSize%sys.HugePageSize() != 0 {
				t.Errorf("a %d-byte file on huge pages: want a multiple of %d", info.FileSize, sys.HugePageSize())
			}
			checkShared(t, a, want)
		})
	}
}

// checkShared maps a's file again, as a peer handed its descriptor does,
// and checks that both mappings see one memory, huge as want says.
func checkShared(t *testing.T, a *ndshm.Block, want bool) {
	t.Helper()
	f, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := ndshm.FromFile(f)
	if err != nil {
		t.Fatalf("FromFile: %v", err)
	}
	defer b.Close()
	a.Bytes()[len(a.Bytes())-1] = 9
	if got := b.Bytes()[len(b.Bytes())-1]; got != 9 || b.Info().HugePages != want {
		t.Errorf("second mapping: last byte %d, HugePages %v; want 9, %v", got, b.Info().HugePages, want)
	}
}

// setKnob writes value to a /proc or /sys setting and restores the old
// one when the test ends.
func setKnob(t *testing.T, file, value string) {
	t.Helper()
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	was := strings.TrimSpace(string(old))
	if s := sys.Selected(was); s != "" {
		was = s
	}
	if err := os.WriteFile(file, []byte(value), 0); err != nil {
		t.Fatalf("write %s to %s: %v", value, file, err)
	}
	t.Cleanup(func() {
		if err := os.WriteFile(file, []byte(was), 0); err != nil {
			t.Errorf("restore %s to %s: %v", file, was, err)
		}
	})
}
