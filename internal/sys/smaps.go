package sys

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// A Backing is what /proc/self/smaps says of one mapping's pages.
type Backing struct {
	PageBytes int64 // KernelPageSize: 2 MiB for hugetlb pages
	PMDBytes  int64 // ShmemPmdMapped + FilePmdMapped: mapped by transparent huge pages
}

// Huge reports whether any of the mapping's pages are huge.
func (b Backing) Huge() bool { return b.PageBytes >= 2<<20 || b.PMDBytes > 0 }

// SmapsWhere returns what smaps's text says of the first mapping whose
// range [lo, hi) is, and false if there is none. Malformed lines are
// skipped: the text is the kernel's, but a parser must not trust it.
func SmapsWhere(r io.Reader, is func(lo, hi uint64) bool) (Backing, bool, error) {
	var b Backing
	in, found := false, false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(key, " -") { // a mapping's header: "7f..-7f.. rw-s ..."
			if in {
				return b, true, nil
			}
			field, _, _ := strings.Cut(line, " ")
			lo, hi, _ := strings.Cut(field, "-")
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && is(l, h)
			found = found || in
			continue
		}
		if !in {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(val), "kB")), 10, 64)
		if err != nil || v < 0 || v > 1<<40 {
			continue
		}
		switch key {
		case "KernelPageSize":
			b.PageBytes = v << 10
		case "ShmemPmdMapped", "FilePmdMapped":
			b.PMDBytes += v << 10
		}
	}
	return b, found, sc.Err()
}

// HugeAt says whether this process's mapping that holds addr has any of
// its pages huge, as /proc/self/smaps says: hugetlb pages, or tmpfs,
// memfd or file data mapped by transparent huge pages (ShmemPmdMapped,
// FilePmdMapped). Pages not yet touched are not mapped at all. An
// address no mapping holds is not huge.
func HugeAt(addr uintptr) (bool, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return false, err
	}
	defer f.Close()
	a := uint64(addr)
	b, _, err := SmapsWhere(f, func(lo, hi uint64) bool { return lo <= a && a < hi })
	if err != nil {
		return false, fmt.Errorf("reading smaps: %w", err)
	}
	return b.Huge(), nil
}

// HugeMapped reports whether the mapping mem (all of one mapping, as Map
// returned it) has its data in huge pages. It first reads one byte where
// mem's first whole huge page starts, so that a mapping nobody touched
// yet (a fresh Open) shows the kernel's page size rather than nothing: a
// read fault maps a huge page whole. It asks PAGEMAP_SCAN (Linux 6.7+),
// which looks at mem's page tables only, else smaps. A file the kernel cannot supply
// (truncated under the mapping) is not huge, and never a crash.
func HugeMapped(mem []byte) bool {
	if len(mem) == 0 {
		return false
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	p := uintptr(HugePageSize())
	if off := (p - base%p) % p; off+p <= uintptr(len(mem)) {
		if !readByte(mem[off:]) {
			return false
		}
	}
	if huge, err := scanHuge(mem); err == nil {
		return huge
	}
	huge, err := HugeAt(base)
	return err == nil && huge
}

// readByte loads the first word of b (b starts page-aligned), reporting
// false if that faults.
func readByte(b []byte) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[0])))
	return true
}
