package sys

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// StartTime returns field 22 of /proc/PID/stat, the process's start time
// in clock ticks since boot. With the pid it names one process for good:
// a reused pid has a later start time.
func StartTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// Field 2 is "(comm)" and comm may hold spaces and parentheses:
	// count fields from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := bytes.Fields(b[i+1:])
	const field = 22 - 3 // f[0] is field 3
	if len(f) <= field {
		return 0, errors.New("malformed /proc stat")
	}
	return strconv.ParseUint(string(f[field]), 10, 64)
}

// Pidfd returns a pidfd for the process pid as a pollable *os.File, which
// becomes readable when the process exits. pid must be a child that has
// not been waited for: only then can it not have been reused. Kernels
// before 5.10 lack non-blocking pidfds; callers fall back to waiting.
func Pidfd(pid int) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK) // always close-on-exec
	if err != nil {
		return nil, os.NewSyscallError("pidfd_open", err)
	}
	return os.NewFile(uintptr(fd), "pidfd"), nil
}

// WaitExit blocks until the process behind the pidfd f has exited, parking
// the goroutine in the runtime's poller rather than holding a thread. It
// returns an error if f is closed meanwhile or cannot be polled.
func WaitExit(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(p, 0)
		if err != nil && err != unix.EINTR {
			perr = os.NewSyscallError("poll", err)
			return true
		}
		return n > 0
	})
	if err != nil {
		return err
	}
	return perr
}

// CPUTime returns the user and system CPU time this process has used, as
// getrusage(RUSAGE_SELF) counts it: what the benchmarks and the demo
// charge a channel per frame.
func CPUTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
