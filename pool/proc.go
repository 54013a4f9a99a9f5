package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
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
	return notSent{fmt.Errorf("worker %d %w before it got the task: %v (%w)", pr.pid, ErrWorkerDied, exitText(pr), err)}
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

// workerRole is the reexec role of a worker of a pool that runs its own
// binary; WorkerMain looks for it.
const workerRole = "pool-worker"

// selfCommand starts this program again as a worker.
func selfCommand() *exec.Cmd { return reexec.Command(workerRole) }

// quickRaceExit keeps a race-enabled worker from sleeping a second as it
// exits (the race runtime's atexit_sleep_ms), which every Close would
// wait for. Other binaries ignore GORACE.
func quickRaceExit() string {
	opts := os.Getenv("GORACE")
	if !strings.Contains(opts, "atexit_sleep_ms") {
		opts = strings.TrimSpace(opts + " atexit_sleep_ms=0")
	}
	return "GORACE=" + opts
}

func (pr *proc) hasExited() bool {
	select {
	case <-pr.exited:
		return true
	default:
		return false
	}
}

// run runs one partition of c on the worker, handing it the call's
// blocks first if it does not have them.
func (pr *proc) run(ctx context.Context, c *call, pt part, timeout time.Duration) (Stats, error) {
	t := task{op: c.def.name, lo: int64(pt.lo), hi: int64(pt.hi), n: len(c.params)}
	copy(t.params[:], c.params)
	var err error
	if t.src, err = pr.attach(c.srcRef); err != nil {
		return Stats{}, pr.lost(err)
	}
	if c.dstRef != nil {
		if t.dst, err = pr.attach(c.dstRef); err != nil {
			return Stats{}, pr.lost(err)
		}
	}
	r, err := pr.call(ctx, &t, timeout)
	if err != nil {
		return Stats{}, err
	}
	if r.err != "" {
		// Perhaps the worker could not open a block: hand it over
		// afresh next time rather than fail forever.
		pr.forget(c.srcRef, c.dstRef)
		return Stats{}, fmt.Errorf("worker %d: %s", pr.pid, r.err)
	}
	if err := c.check(r.stats, pt); err != nil {
		pr.kill()
		return Stats{}, fmt.Errorf("worker %d %w and was killed: %w", pr.pid, ErrProtocol, err)
	}
	return r.stats, nil
}

// ping runs the empty op on no block: one task's fixed cost.
func (pr *proc) ping(ctx context.Context, timeout time.Duration) error {
	t := task{op: "noop"}
	r, err := pr.call(ctx, &t, timeout)
	if err == nil && r.err != "" {
		err = fmt.Errorf("worker %d: %s", pr.pid, r.err)
	}
	return err
}

// call sends t and waits for its result.
func (pr *proc) call(ctx context.Context, t *task, timeout time.Duration) (result, error) {
	pr.seq++
	t.seq = pr.seq
	frame := t.encode()
	if err := pr.send(frame[:], nil); err != nil {
		return result{}, pr.lost(err)
	}
	var r result
	err := pr.await(ctx, timeout, func(b []byte) (err error) {
		if r, err = decodeResult(b); err == nil && r.seq != t.seq {
			err = fmt.Errorf("result for task %d, want %d", r.seq, t.seq)
		}
		return err
	})
	return r, err
}

// died explains the end of the worker's channel: it exited, or it closed
// its end while still alive, and is killed for it.
func (pr *proc) died() error {
	if !pr.waitExit(eofWait) {
		pr.kill()
		return fmt.Errorf("worker %d %w: it closed its end of the channel and was killed", pr.pid, ErrWorkerDied)
	}
	pr.broken = true
	return fmt.Errorf("worker %d %w: %s", pr.pid, ErrWorkerDied, exitText(pr))
}

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
		return fmt.Errorf("worker %d %w and was killed: %w", pr.pid, ErrProtocol, err)
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

// keepBlocks is how many blocks a worker keeps mapped between calls.
// Mapping is cheap but filling the worker's page tables is not (about
// 6 ms per 100 MiB): a block used again skips both.
const keepBlocks = 4

// An attachment is a block a worker has mapped, under the id tasks use.
// The worker's mapping keeps the file alive, so its FileID cannot be
// reused by another file while the attachment lasts.
type attachment struct {
	id  sys.FileID
	wid uint32
	b   *ndshm.Block // the last Block it was used through, for Release
}

// attach returns the worker's id for the block, handing it over (and
// dropping the least recently used block beyond keepBlocks) if need be.
func (pr *proc) attach(ref *blockRef) (uint32, error) {
	for i, a := range pr.blocks {
		if a.id == ref.id {
			a.b = ref.b
			copy(pr.blocks[1:i+1], pr.blocks[:i])
			pr.blocks[0] = a
			return a.wid, nil
		}
	}
	if len(pr.blocks) == keepBlocks {
		if err := pr.detach(len(pr.blocks) - 1); err != nil {
			return 0, err
		}
	}
	frame := encodeAttach(pr.nextID+1, ref.name)
	if ref.raw {
		// No header: the worker learns the array from the frame.
		var err error
		if frame, err = encodeAttachRaw(pr.nextID+1, ref.name, ref.spec); err != nil {
			return 0, err
		}
	}
	pr.nextID++
	if err := pr.send(frame, ref.file); err != nil {
		return 0, err
	}
	pr.blocks = append([]attachment{{id: ref.id, wid: pr.nextID, b: ref.b}}, pr.blocks...)
	return pr.nextID, nil
}

// detach tells the worker to unmap the i'th block.
func (pr *proc) detach(i int) error {
	f := encodeDetach(pr.blocks[i].wid)
	pr.blocks = append(pr.blocks[:i], pr.blocks[i+1:]...)
	return pr.send(f[:], nil)
}

// forget detaches the blocks of refs (nil entries are skipped) and those
// last used through the Block b.
func (pr *proc) forget(refs ...*blockRef) error {
	for i := len(pr.blocks) - 1; i >= 0; i-- {
		a := pr.blocks[i]
		for _, r := range refs {
			if r != nil && (a.id == r.id || a.b == r.b) {
				if err := pr.detach(i); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}
