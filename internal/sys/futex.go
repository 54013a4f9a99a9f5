package sys

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations without FUTEX_PRIVATE_FLAG: a private futex is keyed
// by the waiter's address space, so another process's wake would never
// reach it. Shared futexes are keyed by the page's backing file and
// offset, and so meet across processes that map the same block.
const (
	futexWait = 0 // FUTEX_WAIT
	futexWake = 1 // FUTEX_WAKE
)

// FutexWait sleeps the calling thread while *addr == val, for at most d
// (d > 0). It returns on a wake, a timeout, a signal, or at once if the
// word already differs: callers re-check their condition in every case,
// which is why it reports nothing. The thread stays pinned while it
// sleeps, so callers bound how many sleep at once.
func FutexWait(addr *uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait,
		uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// FutexWake wakes up to n threads sleeping on addr, in any process.
func FutexWake(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake,
		uintptr(n), 0, 0, 0)
}
