package sys

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pmScanArg is the kernel's struct pm_scan_arg (linux/fs.h, 6.7+).
type pmScanArg struct {
	size, flags, start, end, walkEnd, vec, vecLen, maxPages       uint64
	categoryInverted, categoryMask, categoryAnyofMask, returnMask uint64
}

// pageRegion is the kernel's struct page_region.
type pageRegion struct{ start, end, categories uint64 }

const (
	pagemapScan = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pageIsHuge  = 1 << 6     // a THP mapped by a PMD, or a hugetlb page
)

// errNoScan is a kernel without PAGEMAP_SCAN (before 6.7).
var errNoScan = errors.New("PAGEMAP_SCAN unsupported")

// scanHuge reports whether any page of this process's mapping b is
// mapped huge, with PAGEMAP_SCAN, which walks only b's page tables: far
// cheaper than smaps, which walks every mapping before b's.
func scanHuge(b []byte) (bool, error) {
	fd, err := retry(func() (int, error) { return unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	var r pageRegion
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	arg := pmScanArg{size: uint64(unsafe.Sizeof(pmScanArg{})), start: start, end: start + uint64(len(b)),
		vec: uint64(uintptr(unsafe.Pointer(&r))), vecLen: 1,
		categoryMask: pageIsHuge, returnMask: pageIsHuge}
	n, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), pagemapScan, uintptr(unsafe.Pointer(&arg)))
	switch {
	case errno == unix.ENOTTY || errno == unix.EINVAL:
		return false, errNoScan
	case errno != 0:
		return false, errno
	}
	return n > 0, nil
}
