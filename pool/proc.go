package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// How long the pool waits for a worker to say hello, for a killed worker
// to be gone, for a worker told to stop (EOF) to exit, and for a worker
// whose channel ended to exit (the kernel closes a dying process's
// descriptors just before it reaps it).
const (
	helloWait = 10 * time.Second
	killWait  = 5 * time.Second
	stopWait  = 3 * time.Second
	eofWait   = 250 * time.Millisecond
)

// A proc is the parent's handle on one worker process. Only the goroutine
// running a call's tasks on it touches its fields, and while it waits for
// the worker it blocks its thread in a read of the socket: the reply
// wakes it directly, with no hop through the runtime's poller. Whatever
// must end a wait early kills the worker, which ends the read.
type proc struct {
	cmd       *exec.Cmd
	pid       int
	conn      *os.File // our end of the socket pair, blocking
	rc        syscall.RawConn
	pidfd     *os.File      // nil on kernels without pidfds: then only EOF and Wait
	buf       []byte        // the worker's frames
	exited    chan struct{} // closed once the process is reaped
	status    error         // cmd.Wait's, set before exited closes
	broken    bool          // died, killed or misbehaved: discard, replace
	discarded bool
	seq       uint32
	blocks    []attachment
	nextID    uint32
}

// start starts a worker and waits for its hello.
func (p *Pool) start() (*proc, error) {
	mine, theirs, err := sys.Socketpair(sys.SockSeqpacket)
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	mk := p.o.command
	if mk == nil {
		mk = selfCommand
	}
	cmd := mk()
	cmd.ExtraFiles = append([]*os.File{theirs}, cmd.ExtraFiles...)
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.NumCPU()/p.n)), quickRaceExit())
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	pr := &proc{cmd: cmd, pid: cmd.Process.Pid, conn: mine, buf: make([]byte, maxFrame+1),
		exited: make(chan struct{})}
	pr.rc, _ = mine.SyscallConn()   // cannot fail for an open file
	pr.pidfd, _ = sys.Pidfd(pr.pid) // our child, not yet waited for: the pid is its own
	go pr.watch()
	if err := pr.hello(); err != nil {
		pr.discard()
		return nil, err
	}
	return pr, nil
}

// hello waits for the worker's first frame.
func (pr *proc) hello() error {
	err := pr.await(context.Background(), helloWait, func(b []byte) error {
		pid, err := decodeHello(b)
		if err == nil && pid != pr.pid {
			// The protocol wants the process the pool started and
			// watches, not a child of it: that one it could not kill.
			err = fmt.Errorf("%w: hello from pid %d (the program must exec, not fork)", errFrame, pid)
		}
		return err
	})
	if errors.Is(err, ErrTimeout) {
		return fmt.Errorf("worker %d did not say hello within %v and was killed", pr.pid, helloWait)
	}
	return err
}

// lost is a failure to send to the worker: it is gone or going. The task
// never reached it, so running it elsewhere is always safe.
func (pr *proc) lost(err error) error {
	pr.discard()
	return notSent{fmt.Errorf("worker %d %w before it got the task: %v (%v)", pr.pid, ErrWorkerDied, exitText(pr), err)}
}

// notSent marks a task that never reached its worker.
type notSent struct{ error }

func (e notSent) Unwrap() error { return e.error }

// retryable reports whether a failed partition may run again: it never
// started, or the op is safe to redo and the worker died.
func retryable(err error, safe bool) bool {
	return errors.As(err, new(notSent)) || safe && errors.Is(err, ErrWorkerDied)
}

// kill kills the worker and waits until it is gone: after it, nothing
// the worker does touches any block.
func (pr *proc) kill() {
	pr.broken = true
	pr.cmd.Process.Kill() // through the process's pidfd: never another process
	pr.waitExit(killWait)
}

func (pr *proc) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-pr.exited:
		return true
	case <-t.C:
		return false
	}
}

// discard kills the worker if it lives and releases everything the
// parent holds for it.
func (pr *proc) discard() {
	if pr.discarded {
		return
	}
	pr.discarded = true
	pr.kill()
	pr.conn.Close()
	if pr.pidfd != nil {
		pr.pidfd.Close()
	}
}

// stop ends an idle worker the polite way: EOF, then a kill if it lingers.
func (pr *proc) stop() error {
	sys.Shutdown(pr.conn)
	var err error
	if !pr.waitExit(stopWait) {
		err = fmt.Errorf("pool: worker %d did not exit on EOF within %v; killed", pr.pid, stopWait)
	}
	pr.discard()
	return err
}

// exitText describes how the worker ended, once it has: "signal: killed".
func exitText(pr *proc) string {
	select {
	case <-pr.exited:
	default:
		return "still running"
	}
	if pr.status == nil {
		return "exit status 0"
	}
	return pr.status.Error()
}
