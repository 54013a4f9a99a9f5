package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// send sends one frame to the worker, with file's descriptor if file is
// not nil.
func (pr *proc) send(frame []byte, file *os.File) error {
	var err error
	cerr := pr.rc.Control(func(s uintptr) {
		if file == nil {
			err = sys.SendPacket(int(s), frame)
			return
		}
		fc, ferr := file.SyscallConn()
		if ferr != nil {
			err = ferr
			return
		}
		if ferr = fc.Control(func(f uintptr) { err = sys.SendPacket(int(s), frame, int(f)) }); ferr != nil {
			err = ferr
		}
	})
	return errors.Join(cerr, err)
}

// spinFor is how long a reader polls for a packet before it blocks (see
// sys.SpinReadable). A reply to a short task, or the next task of a run
// of short ones, comes within microseconds; polling for it spares the
// wake-up of an idle CPU, which on a virtual machine costs tens of
// microseconds.
const spinFor = 50 * time.Microsecond

// recv reads the worker's next packet into pr.buf, blocking the thread
// until one comes or the worker's end is closed (n == 0). Descriptors
// from a worker, and packets longer than any frame, break the protocol.
func (pr *proc) recv() (int, error) {
	var n int
	var fds []int
	var err error
	read := func(fd uintptr) {
		sys.SpinReadable(int(fd), spinFor)
		n, fds, err = sys.RecvPacket(int(fd), pr.buf)
	}
	if cerr := pr.rc.Control(read); cerr != nil {
		return 0, cerr
	}
	for _, fd := range fds {
		os.NewFile(uintptr(fd), "").Close()
	}
	switch {
	case errors.Is(err, sys.ErrTruncated) || err == nil && n > maxFrame:
		return 0, fmt.Errorf("%w: packet of more than %d bytes", errFrame, maxFrame)
	case err != nil:
		return 0, err
	case len(fds) > 0:
		return 0, fmt.Errorf("%w: the worker sent descriptors", errFrame)
	}
	return n, nil
}

// Why a wait for the worker ended early.
const (
	waiting int32 = iota
	answered
	timedOut
	cancelled
)

// await waits for the worker's next frame and decodes it. A deadline or
// the end of ctx kills the worker, which ends the wait; so does a frame
// that does not decode. Every way but success leaves the worker killed
// and gone, so that it no longer touches any block.
func (pr *proc) await(ctx context.Context, timeout time.Duration, decode func([]byte) error) error {
	var why atomic.Int32
	end := func(cause int32) func() {
		return func() {
			if why.CompareAndSwap(waiting, cause) {
				pr.cmd.Process.Kill() // through its pidfd: never another process
			}
		}
	}
	if timeout > 0 {
		t := time.AfterFunc(timeout, end(timedOut))
		defer t.Stop()
	}
	defer context.AfterFunc(ctx, end(cancelled))()
	n, err := pr.recv()
	if !why.CompareAndSwap(waiting, answered) { // too late: the worker is being killed
		pr.kill()
		if why.Load() == timedOut {
			return fmt.Errorf("worker %d %w of %v and was killed", pr.pid, ErrTimeout, timeout)
		}
		return fmt.Errorf("worker %d killed: %w", pr.pid, context.Cause(ctx))
	}
	if err == nil && n == 0 {
		return pr.died()
	}
	if err == nil {
		err = decode(pr.buf[:n])
	}
	if err != nil {
		pr.kill()
		return fmt.Errorf("worker %d %w and was killed: %v", pr.pid, ErrProtocol, err)
	}
	return nil
}

// watch waits for the worker to exit (its pidfd turns readable), reaps
// it, and shuts our end of the socket down: a read of it returns what the
// worker sent, then EOF, even if a child of the worker still holds the
// other end.
func (pr *proc) watch() {
	if pr.pidfd != nil {
		sys.WaitExit(pr.pidfd) // on error (closed, unpollable) Wait still waits
	}
	pr.status = pr.cmd.Wait()
	close(pr.exited)
	sys.Shutdown(pr.conn)
}
