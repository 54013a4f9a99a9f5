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
// word already differs: callers re-check their condition in every case.
// It reports whether it returned because d ran out, which only tells a
// caller that no wake came. The thread stays pinned while it sleeps, so
// callers bound how many sleep at once.
func FutexWait(addr *uint32, val uint32, d time.Duration) (timedOut bool) {
	ts := unix.NsecToTimespec(int64(d))
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait,
		uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
	return errno == unix.ETIMEDOUT
}

// FutexWake wakes up to n threads sleeping on addr, in any process.
func FutexWake(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake,
		uintptr(n), 0, 0, 0)
}

// Yield gives the calling thread's CPU to another runnable thread, if
// there is one, and returns at once otherwise (sched_yield).
func Yield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
