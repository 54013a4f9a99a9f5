package sys

import (
	"time"

	"golang.org/x/sys/unix"
)

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

// A RangeMode is the kind of OFD byte-range lock that SetRange sets.
type RangeMode int16

// The modes of SetRange: shared, exclusive, or none (release).
const (
	RangeRead   RangeMode = unix.F_RDLCK
	RangeWrite  RangeMode = unix.F_WRLCK
	RangeUnlock RangeMode = unix.F_UNLCK
)

// SetRange sets, without waiting, fd's open file description's lock on
// the n bytes at off to mode, replacing whatever lock the description
// held there, and reports whether it could: false (with a nil error)
// means another open file description holds a conflicting lock, and then
// nothing changed, for the kernel applies a range all or nothing.
//
// The bytes need not exist: locks far past the end of the file are how
// numbered regions get their own bytes. The kernel drops the locks when
// the description's last descriptor closes, however the process ends.
// It never waits: F_OFD_SETLKW would pin an OS thread for the whole wait
// and cannot be cancelled (Go restarts it after a signal), so callers
// poll instead.
func SetRange(fd int, mode RangeMode, off, n int64) (bool, error) {
	lk := unix.Flock_t{Type: int16(mode), Whence: 0, Start: off, Len: n}
	for {
		err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
		switch err {
		case nil:
			return true, nil
		case unix.EAGAIN, unix.EACCES: // POSIX allows either for a conflict
			return false, nil
		case unix.EINTR:
			continue
		}
		return false, err
	}
}

// Nap sleeps the calling thread for d. Go's own timers cannot wait less
// than about a millisecond once the process is idle (the runtime's
// poller waits in whole milliseconds: time.Sleep(20µs) took 1.05 ms
// here); nanosleep takes d plus some 70 µs. It pins an OS thread for d,
// so keep d well under a millisecond.
func Nap(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	for unix.Nanosleep(&ts, &ts) == unix.EINTR {
	}
}
