package sys

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PAGEMAP_SCAN and smaps agree on whether a mapping is huge, for one
// advised to use transparent huge pages and one advised not to. The
// mappings are anonymous, which THP's "madvise" default lets have huge
// pages, so smaps tells of them in AnonHugePages.
func TestScanHugeAgreesWithSmaps(t *testing.T) {
	for _, advice := range []int{unix.MADV_HUGEPAGE, unix.MADV_NOHUGEPAGE} {
		m, err := unix.Mmap(-1, 0, 8<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Munmap(m)
		if err := unix.Madvise(m, advice); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(m); i += 4096 {
			m[i] = 1
		}
		scan, err := scanHuge(m)
		if err != nil {
			t.Fatalf("PAGEMAP_SCAN: %v", err)
		}
		smaps := anonHuge(t, uintptr(unsafe.Pointer(&m[0])))
		if scan != smaps || (advice == unix.MADV_NOHUGEPAGE && scan) {
			t.Errorf("advice %d: PAGEMAP_SCAN says huge %v, smaps %v", advice, scan, smaps)
		}
		t.Logf("advice %d: huge %v", advice, scan)
	}
}

// anonHuge reads smaps's AnonHugePages for the mapping at addr.
func anonHuge(t *testing.T, addr uintptr) bool {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if lo, _, ok := strings.Cut(line, "-"); ok && !strings.Contains(lo, " ") && !strings.Contains(lo, ":") {
			a, err := strconv.ParseUint(lo, 16, 64)
			in = err == nil && uintptr(a) == addr
			continue
		}
		if v, ok := strings.CutPrefix(line, "AnonHugePages:"); ok && in {
			return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")) != "0"
		}
	}
	t.Fatalf("no mapping at %#x in smaps", addr)
	return false
}
