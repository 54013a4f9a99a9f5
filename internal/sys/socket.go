package sys

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"time"

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

// Shutdown shuts a socket down both ways: the peer reads EOF, and a
// reader of conn in this process gets what was already queued, then EOF.
func Shutdown(conn *os.File) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_RDWR) }); err != nil {
		return err
	}
	return os.NewSyscallError("shutdown", serr)
}

// IsSeqpacket reports whether fd is a SOCK_SEQPACKET socket.
func IsSeqpacket(fd int) bool {
	typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE)
	return err == nil && typ == unix.SOCK_SEQPACKET
}

// ErrTruncated means a packet, or the descriptors sent with it, did not
// fit the receiver's buffers: the sender broke the protocol.
var ErrTruncated = errors.New("packet truncated")

// The rest serves ndshm's data server (docs/PROTOCOL.md): a listening
// socket, and messages read and written through the net package, which
// integrates them with the runtime poller and deadlines.

// MaxFiles is the most descriptors ReadMsg accepts with one message.
const MaxFiles = 4

// Listen makes a SOCK_SEQPACKET unix socket listening at path, mode 0600.
// The kernel creates the file under the process umask: changing the
// umask would affect every thread, so the file is chmod'ed right after
// bind, and servers must still check each peer's uid (PeerCred). Closing
// the listener removes the file.
func Listen(path string) (*net.UnixListener, error) {
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Dial connects to the SOCK_SEQPACKET socket at path.
func Dial(path string) (*net.UnixConn, error) {
	return net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
}

// PeerCred returns the uid and pid of the process at the other end of c,
// as they were when it connected (SO_PEERCRED).
func PeerCred(c *net.UnixConn) (uid, pid int, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	cerr := rc.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err = errors.Join(cerr, err); err != nil {
		return 0, 0, os.NewSyscallError("getsockopt SO_PEERCRED", err)
	}
	return int(cred.Uid), int(cred.Pid), nil
}

// WriteMsg sends b as one message on c, with files' descriptors attached
// (SCM_RIGHTS). The files stay the caller's.
func WriteMsg(c *net.UnixConn, b []byte, files ...*os.File) error {
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	_, _, err := c.WriteMsgUnix(b, oob, nil)
	runtime.KeepAlive(files) // open until the kernel has its references
	return err
}

// ReadMsg reads one message on c into b and returns its length and the
// descriptors that came with it, which are the caller's (received
// close-on-exec). A message that did not fit in b, or that carried more
// than MaxFiles descriptors, is ErrTruncated, and every descriptor it
// carried is closed. A zero-length message returns n == 0 and a nil
// error; the peer's end of the connection is io.EOF.
func ReadMsg(c *net.UnixConn, b []byte) (n int, files []*os.File, err error) {
	oob := make([]byte, unix.CmsgSpace(MaxFiles*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(b, oob)
	if err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		// The net package calls every 0-byte read EOF: below we tell an
		// empty message from the end.
		return 0, nil, err
	}
	fds, perr := parseRights(oob[:oobn])
	if perr == nil && flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		perr = ErrTruncated
	}
	if perr != nil {
		closeAll(fds)
		return n, nil, perr
	}
	if n == 0 && len(fds) == 0 && peerClosed(c) {
		// SEQPACKET reads 0 bytes both for an empty message and at EOF.
		return 0, nil, io.EOF
	}
	for _, fd := range fds {
		files = append(files, os.NewFile(uintptr(fd), "socket fd"))
	}
	return n, files, nil
}

// parseRights returns every descriptor in the control messages, even
// when it fails, so that the caller can close them.
func parseRights(oob []byte) ([]int, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, perr := unix.ParseUnixRights(&m)
		fds = append(fds, got...)
		err = errors.Join(err, perr)
	}
	return fds, err
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// peerClosed reports whether the peer has shut down its sending side
// with nothing left to read: the zero-length read was EOF, not an empty
// message.
func peerClosed(c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return true
	}
	closed := true
	rc.Control(func(fd uintptr) {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN | unix.POLLRDHUP}}
		if n, err := unix.Poll(p, 0); err != nil || n == 0 {
			closed = err != nil
			return
		}
		if p[0].Revents&(unix.POLLRDHUP|unix.POLLHUP) == 0 {
			closed = false // more messages, no shutdown
			return
		}
		// Shut down, but requests sent before that are still queued.
		var one [1]byte
		m, _, err := unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = err != nil || m == 0
	})
	return closed
}

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
