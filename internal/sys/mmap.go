package sys

import "golang.org/x/sys/unix"

// Map maps size bytes of fd shared between processes. The returned slice
// is the only handle to the mapping: pass that same slice to Unmap.
func Map(fd int, size int, writable bool) ([]byte, error) {
	prot := unix.PROT_READ
	if writable {
		prot |= unix.PROT_WRITE
	}
	return unix.Mmap(fd, 0, size, prot, unix.MAP_SHARED)
}

// Unmap removes a mapping made by Map. Any slice into it is invalid after.
func Unmap(b []byte) error { return unix.Munmap(b) }

// ReadAt reads len(b) bytes at off. Unlike touching a mapping, a short
// file gives a short read here, never a SIGBUS: validation reads go
// through it.
func ReadAt(fd int, b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Pread(fd, b[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// Populate faults every page of a mapping in with one call, far cheaper
// than a page fault per page on first touch. It is best effort: kernels
// before 5.14 lack it, and then the pages fault in as they are used.
func Populate(b []byte) {
	if len(b) > 0 {
		unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	}
}
