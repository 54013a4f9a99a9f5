package sys

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// DefaultDir is where the kernel keeps POSIX shared memory, as glibc's
// shm_open uses it.
const DefaultDir = "/dev/shm"

// Dir is the directory named blocks live in: $NDSHM_DIR as it was when
// the process started, or DefaultDir if that is unset or empty. It is
// set once, before main runs, and only read after, so any goroutine may
// read it.
var Dir, dirErr = dirFromEnv(os.Getenv("NDSHM_DIR"))

// dirFromEnv takes the value of NDSHM_DIR. A relative one is an error,
// reported at each use rather than silently replaced by DefaultDir: the
// caller meant some other directory, and blocks made in /dev/shm instead
// would be missed by every process that honours the variable.
func dirFromEnv(v string) (string, error) {
	if v == "" {
		return DefaultDir, nil
	}
	if !filepath.IsAbs(v) {
		return DefaultDir, fmt.Errorf("NDSHM_DIR=%q is not an absolute path", v)
	}
	return filepath.Clean(v), nil
}

// DirErr is the error of a relative NDSHM_DIR, nil when Dir is usable.
// Every operation on named blocks here returns it before touching Dir.
func DirErr() error { return dirErr }

// Path returns the file behind a (validated) shared-memory name.
func Path(name string) string { return filepath.Join(Dir, name) }

// Open opens a named block as glibc's shm_open does: O_NOFOLLOW so a
// planted symlink cannot redirect us, O_CLOEXEC so children inherit
// nothing; and O_NONBLOCK, so a FIFO planted under the name cannot hang us.
func Open(name string, writable bool) (int, error) {
	flags := unix.O_RDONLY
	if writable {
		flags = unix.O_RDWR
	}
	if dirErr != nil {
		return -1, dirErr
	}
	return retry(func() (int, error) {
		return unix.Open(Path(name), flags|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	})
}

// CreateTemp makes an unnamed file in Dir. It gets a name only through
// Link, once it is complete, so nobody sees it half-built and a creator
// that dies first leaves nothing behind.
func CreateTemp(perm uint32) (int, error) {
	if dirErr != nil {
		return -1, dirErr
	}
	return retry(func() (int, error) {
		return unix.Open(Dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, perm)
	})
}

// Link gives the unnamed file fd the name; it fails with EEXIST if the
// name is taken, which makes it an atomic exclusive create.
func Link(fd int, name string) error {
	if dirErr != nil {
		return dirErr
	}
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd),
		unix.AT_FDCWD, Path(name), unix.AT_SYMLINK_FOLLOW)
}

// Unlink removes a name; mappings and descriptors stay valid.
func Unlink(name string) error {
	if dirErr != nil {
		return dirErr
	}
	return unix.Unlink(Path(name))
}

// Exists reports whether name is present, without following links.
func Exists(name string) bool {
	var st unix.Stat_t
	return dirErr == nil && unix.Lstat(Path(name), &st) == nil
}

// Memfd creates an anonymous file that can be sealed. The name only shows
// in /proc/PID/fd links and is not unique.
func Memfd(name string) (int, error) {
	return unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
}

// Seal fixes a memfd's size for good, so no holder can shrink it under
// another's mapping (a SIGBUS) or grow it.
func Seal(fd int) error {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS,
		unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL)
	return err
}

// Reserve sizes the file and allocates every page now, so a full tmpfs is
// ENOSPC here rather than SIGBUS at the first write. The size is set
// first: a tmpfs mounted huge=within_size gives huge pages only to the
// part of a file below its size.
func Reserve(fd int, size int64) error {
	if err := unix.Ftruncate(fd, size); err != nil {
		return err
	}
	for {
		err := unix.Fallocate(fd, 0, 0, size)
		if err != unix.EINTR {
			return err
		}
	}
}

// A FileID names a file for good: a mapping or descriptor of the same
// (device, inode) is the same block, whatever its name is now.
type FileID struct{ Dev, Ino uint64 }

// File is what fstat says of a block's file.
type File struct {
	ID      FileID
	Size    int64
	Regular bool // a FIFO or device planted under a block's name is not
	UID     int  // the owner, who may truncate it under anyone's mapping
}

// Fstat describes the file open as fd.
func Fstat(fd int) (File, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return File{}, err
	}
	return File{FileID{st.Dev, st.Ino}, st.Size, st.Mode&unix.S_IFMT == unix.S_IFREG, int(st.Uid)}, nil
}

// Close closes fd.
func Close(fd int) error { return unix.Close(fd) }

// Dup returns a close-on-exec copy of fd that shares its open file
// description (and so its OFD locks).
func Dup(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

func retry(f func() (int, error)) (int, error) {
	for {
		fd, err := f()
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// SameFile reports whether name still refers to the file open as fd, so
// that a creator never unlinks a newer block that took over its name.
func SameFile(fd int, name string) bool {
	var a, b unix.Stat_t
	if dirErr != nil || unix.Fstat(fd, &a) != nil || unix.Lstat(Path(name), &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// Reopen opens the file behind fd again, read-write: a new open file
// description, so OFD locks taken on it are told apart from fd's.
func Reopen(fd int) (int, error) { return reopen(fd, unix.O_RDWR) }

// ReopenReadOnly is Reopen for a file this process may only read.
func ReopenReadOnly(fd int) (int, error) { return reopen(fd, unix.O_RDONLY) }

func reopen(fd, flags int) (int, error) {
	return retry(func() (int, error) {
		return unix.Open("/proc/self/fd/"+strconv.Itoa(fd), flags|unix.O_CLOEXEC, 0)
	})
}

// Writable reports whether fd was opened for writing (O_RDWR or O_WRONLY).
func Writable(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_ACCMODE != unix.O_RDONLY
}

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
