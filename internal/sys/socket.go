package sys

import (
	"os"

	"golang.org/x/sys/unix"
)

// Socketpair returns two connected close-on-exec unix sockets of type typ
// (unix.SOCK_STREAM or unix.SOCK_SEQPACKET), for talking to a child.
func Socketpair(typ int) (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "socket"), os.NewFile(uintptr(fds[1]), "socket"), nil
}

// SockStream is unix.SOCK_STREAM, for callers outside this package.
const SockStream = unix.SOCK_STREAM
