package ndshm_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
)

// hugeSpec is a block of 5 MiB and 24 bytes: more than two huge pages,
// and no multiple of one.
var hugeSpec = ndshm.Spec{DType: ndshm.Float64, Shape: []int{5<<20/8 + 3}}

// unpadded is the size of hugeSpec's file without huge-page padding:
// header page, data rounded to pages, one-page footer.
const unpadded = 4096 + (5<<20 + 4096) + 4096

// On a tmpfs mounted huge=always or huge=within_size, a named block of at
// least a huge page fills whole huge pages, the kernel maps it with them
// (Go's Info, Stat and Python's info say so, from smaps), and NumPy still
// loads it, read-write, as a .npy file; a small block is not padded, and
// an anonymous block takes its huge pages from the directory when memfds
// get none. Each mount lives in a private mount namespace.
func TestHugeTmpfs(t *testing.T) {
	if opts := os.Getenv(shmtest.EnvTmpfs); opts != "" {
		testHugeInside(t, opts)
		return
	}
	for _, huge := range []string{"always", "within_size"} {
		t.Run(huge, func(t *testing.T) {
			out := shmtest.InPrivateTmpfs(t, "TestHugeTmpfs", "huge="+huge+",size=128m")
			t.Logf("%s", out)
		})
	}
}

func testHugeInside(t *testing.T, opts string) {
	if !sys.DirHuge() {
		t.Fatalf("NDSHM_DIR=%s, mounted %s, is not seen as a huge tmpfs", sys.Dir, opts)
	}
	page := sys.HugePageSize()
	b, err := ndshm.Create(shmtest.Name(), hugeSpec)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	info := b.Info()
	if info.FileSize%page != 0 || info.FileSize < unpadded || info.FileSize >= unpadded+page {
		t.Errorf("file of %d bytes, want the first multiple of %d from %d", info.FileSize, page, unpadded)
	}
	if !info.HugePages {
		t.Errorf("creator's Info: HugePages false on a tmpfs mounted %s", opts)
	}
	// The kernel aligns the mapping so that file and address agree
	// modulo a huge page: only then can it map one with a PMD.
	if base := uintptr(unsafe.Pointer(&b.Bytes()[0])) - uintptr(info.DataOffset); base%uintptr(page) != 0 {
		t.Errorf("mapping at %#x, not aligned to %d", base, page)
	}
	if st, err := ndshm.Stat(b.Name()); err != nil || !st.HugePages || st.FileSize != info.FileSize {
		t.Errorf("Stat = %+v, %v; want HugePages and a %d-byte file", st, err, info.FileSize)
	}
	o, err := ndshm.Open(b.Name(), ndshm.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if !o.Info().HugePages {
		t.Error("a fresh Open's Info: HugePages false")
	}
	o.Close()
	checkNumPy(t, b, true)

	checkPythonCreates(t, page)

	small, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{100}})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if n := small.Info().FileSize; n != 3*4096 {
		t.Errorf("a 100-byte block's file is %d bytes, want 3 pages: only blocks of a huge page or more are padded", n)
	}

	a, err := ndshm.CreateAnon(hugeSpec)
	if err != nil {
		t.Fatalf("CreateAnon on a huge NDSHM_DIR: %v", err)
	}
	defer a.Close()
	if ai := a.Info(); !ai.HugePages || !ai.Anonymous || ai.FileSize%page != 0 {
		t.Errorf("anonymous block: %+v; want huge pages (from the hugetlb pool, shmem_enabled or NDSHM_DIR), whole", ai)
	}
	if ents, _ := os.ReadDir(sys.Dir); len(ents) != 2 {
		t.Errorf("%s holds %d files, want the 2 named blocks: an anonymous block has no name", sys.Dir, len(ents))
	}
}

// checkNumPy has NumPy load b's file read-write through a memory map and
// write to it (Go sees the write), and Python's info say huge_pages as
// want.
func checkNumPy(t *testing.T, b *ndshm.Block, want bool) {
	t.Helper()
	d, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	n := d.Len()
	d.Set(7, n-1)
	script := `import sys, numpy as np, ndshm
a = np.load(sys.argv[1], mmap_mode='r+')
assert a.shape == (int(sys.argv[3]),) and a[-1] == 7, (a.shape, a[-1])
a[0] = 42
a.flush()
print(ndshm.info(sys.argv[2])['huge_pages'])`
	path := filepath.Join(sys.Dir, b.Name())
	cmd := shmtest.PythonCommand(t, "-c", script, path, b.Name(), strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("np.load(%s, mmap_mode='r+'): %v\n%s", path, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != map[bool]string{true: "True", false: "False"}[want] {
		t.Errorf("Python's info: huge_pages %s, want %v", got, want)
	}
	if got := d.At(0); got != 42 {
		t.Errorf("NumPy's write through its map: Go reads %v, want 42", got)
	}
}

// Where the block directory is no huge tmpfs (/dev/shm here), nothing is
// padded and the blocks say they have no huge pages; anonymous blocks
// still come to be, huge or not.
func TestHugePlain(t *testing.T) {
	if sys.DirHuge() {
		t.Skipf("%s is a huge tmpfs", sys.Dir)
	}
	b := tBlock(t, hugeSpec)
	if info := b.Info(); info.HugePages || info.FileSize != unpadded {
		t.Errorf("Info: HugePages %v, %d-byte file; want false, %d", info.HugePages, info.FileSize, unpadded)
	}
	if st, err := ndshm.Stat(b.Name()); err != nil || st.HugePages {
		t.Errorf("Stat = %+v, %v; want no huge pages", st, err)
	}
	checkNumPy(t, b, false)
	a, err := ndshm.CreateAnon(hugeSpec)
	if err != nil {
		t.Fatalf("CreateAnon without huge pages: %v", err)
	}
	defer a.Close()
	free, _ := sys.HugetlbFree()
	if sh := sys.ShmemEnabled(); (sh == "never" || sh == "deny") && free == 0 && a.Info().HugePages {
		t.Errorf("anonymous block has huge pages with shmem_enabled=%s and no hugetlb pool", sh)
	}
}

// checkPythonCreates has Python create a block as large as hugeSpec's in
// the huge NDSHM_DIR: it pads it to whole huge pages as Go does, and Go
// reads it, huge.
func checkPythonCreates(t *testing.T, page int64) {
	t.Helper()
	name := shmtest.Name()
	defer os.Remove(filepath.Join(sys.Dir, name))
	script := "import sys, ndshm\na = ndshm.create(sys.argv[1], shape=(int(sys.argv[2]),), dtype='<f8', fill=1.5, persistent=True)"
	if out, err := shmtest.PythonCommand(t, "-c", script, name, strconv.Itoa(hugeSpec.Shape[0])).CombinedOutput(); err != nil {
		t.Fatalf("Python create: %v\n%s", err, out)
	}
	st, err := ndshm.Stat(name)
	if err != nil || st.FileSize%page != 0 || !st.HugePages {
		t.Fatalf("Python's block: Stat = %+v, %v; want whole huge pages", st, err)
	}
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if d, err := ndshm.View[float64](b); err != nil || d.At(d.Len()-1) != 1.5 {
		t.Errorf("Go reads Python's huge block: %v", err)
	}
}
