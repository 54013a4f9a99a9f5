package sys

import "golang.org/x/sys/unix"

// LockShared takes a non-blocking OFD read lock on the byte at off. It
// belongs to fd's open file description and the kernel drops it when the
// last descriptor for that description closes, however the process ends.
func LockShared(fd int, off int64) error {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: 0, Start: off, Len: 1}
	return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
}

// Held reports whether any open file description holds a lock on the byte
// at off that would conflict with a write lock, i.e. whether a holder lives.
func Held(fd int, off int64) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: off, Len: 1}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
