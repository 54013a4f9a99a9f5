package sys

import "golang.org/x/sys/unix"

// MemfdHuge creates an anonymous file that can be sealed, backed by the
// hugetlb pool's pages of the default huge-page size: its size must be a
// multiple of that page. Reserving or mapping it fails with ENOSPC or
// ENOMEM, not a later SIGBUS, when the pool cannot supply the pages.
func MemfdHuge(name string) (int, error) {
	return unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_HUGETLB|unix.MFD_ALLOW_SEALING)
}

// Truncate sets the size of the file open as fd.
func Truncate(fd int, size int64) error { return unix.Ftruncate(fd, size) }

// CreateTempIn makes an unnamed file in dir that, unlike CreateTemp's,
// can never be given a name (O_EXCL): it is freed with its last
// descriptor and mapping, as a memfd is.
func CreateTempIn(dir string, perm uint32) (int, error) {
	return retry(func() (int, error) {
		return unix.Open(dir, unix.O_TMPFILE|unix.O_EXCL|unix.O_RDWR|unix.O_CLOEXEC, perm)
	})
}

// AdviseHuge asks that a mapping of shared memory be backed by
// transparent huge pages (on), or never be (off). It must come before the
// pages are first touched; shmem_enabled decides whether it is heeded.
func AdviseHuge(b []byte, on bool) error {
	advice := unix.MADV_NOHUGEPAGE
	if on {
		advice = unix.MADV_HUGEPAGE
	}
	return unix.Madvise(b, advice)
}

// A Limit is a resource limit: the soft limit in force and the hard limit
// it may be raised to. Unlimited is Infinity.
type Limit struct{ Cur, Max uint64 }

// Infinity is an unlimited Limit's value.
const Infinity = unix.RLIM_INFINITY

// MemlockLimit is RLIMIT_MEMLOCK: how many bytes this process may lock.
func MemlockLimit() (Limit, error) { return getrlimit(unix.RLIMIT_MEMLOCK) }

// OpenFilesLimit is RLIMIT_NOFILE. The Go runtime raises its soft limit
// to the hard one at start, so this process's Cur is not its parent's.
func OpenFilesLimit() (Limit, error) { return getrlimit(unix.RLIMIT_NOFILE) }

func getrlimit(resource int) (Limit, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(resource, &r); err != nil {
		return Limit{}, err
	}
	return Limit{r.Cur, r.Max}, nil
}

// DiskSpace returns the size of the file system holding dir, and the
// bytes an unprivileged user may still allocate there.
func DiskSpace(dir string) (size, free int64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return int64(st.Blocks) * st.Bsize, int64(st.Bavail) * st.Bsize, nil
}

// PopulateWrite is Populate that reports failure: for a mapping whose
// pages are allocated by populating it, a shortage of memory shows here.
func PopulateWrite(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Madvise(b, unix.MADV_POPULATE_WRITE)
}
