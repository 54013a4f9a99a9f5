package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

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
