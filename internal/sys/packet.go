package sys

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// maxPacketFiles is the most descriptors RecvPacket accepts with one packet.
const maxPacketFiles = 4

// SockSeqpacket is unix.SOCK_SEQPACKET, for Socketpair: a socket that
// keeps message boundaries, passes descriptors, and reads EOF when the
// peer dies.
const SockSeqpacket = unix.SOCK_SEQPACKET

// RecvPacket reads one packet from the blocking socket fd into p, with the
// descriptors sent along with it (SCM_RIGHTS, received close-on-exec,
// the caller's to close). A packet longer than p, or one carrying more
// descriptors than fit, is ErrTruncated, and every descriptor that came
// is closed. n == 0 with no descriptors is the peer's end (also when it
// closed with packets unread, which the kernel reports as a reset) or an
// empty packet: for this protocol all mean the peer is done.
func RecvPacket(fd int, p []byte) (n int, fds []int, err error) {
	var oob [64]byte // room for maxPacketFiles descriptors
	var oobn, flags int
	for {
		n, oobn, flags, _, err = unix.Recvmsg(fd, p, oob[:unix.CmsgSpace(4*maxPacketFiles)], unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.ECONNRESET {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, os.NewSyscallError("recvmsg", err)
	}
	if oobn > 0 {
		fds, err = parseRights(oob[:oobn])
	}
	if err == nil && flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		err = ErrTruncated
	}
	if err != nil {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return n, nil, err
	}
	return n, fds, nil
}

// SendPacket sends p as one packet on the blocking socket fd, with the
// descriptors files attached (SCM_RIGHTS), which stay the caller's. A
// peer that is gone is EPIPE, never a SIGPIPE.
func SendPacket(fd int, p []byte, files ...int) error {
	var oob []byte
	if len(files) > 0 {
		oob = unix.UnixRights(files...)
	}
	for {
		err := unix.Sendmsg(fd, p, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return os.NewSyscallError("sendmsg", err)
		}
	}
}

// WaitHangup blocks its thread until the peer of the socket fd has closed
// its end (POLLRDHUP), however it ended: a worker's watch on its parent.
// Packets waiting to be read do not wake it.
func WaitHangup(fd int) error {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	for {
		_, err := unix.Poll(p, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("poll", err)
		}
		if p[0].Revents != 0 {
			return nil
		}
	}
}

// SpinReadable polls fd for up to d for something to read (a packet, or
// the peer's end), giving up the CPU between polls, and reports whether
// there is. When the answer comes within microseconds, spinning spares
// the wake-up of an idle CPU, which takes tens of microseconds on a
// virtual machine; yielding lets a peer that waits for this very CPU run
// first. It does not allocate.
func SpinReadable(fd int, d time.Duration) bool {
	p := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for end := time.Now().Add(d); ; {
		if n, err := unix.Poll(p[:], 0); n > 0 || err != nil && err != unix.EINTR {
			return true
		}
		if time.Now().After(end) {
			return false
		}
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
}
