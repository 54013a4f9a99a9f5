package pool

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
)

// WorkerMain makes this program a pool worker if it was started as one,
// and otherwise returns at once. A program that starts process pools
// with New calls it first thing in main (and a test binary in TestMain),
// before flags and before anything else: a worker is the same binary
// re-executed, and must serve tasks instead of doing what the program
// does. Ops must be registered by then, in init functions.
//
// In a worker, WorkerMain serves tasks until the parent goes, then exits
// the process: status 0, or 1 after printing why to standard error.
func WorkerMain() {
	if reexec.Role() != workerRole {
		return
	}
	if err := Serve(); err != nil {
		fmt.Fprintf(os.Stderr, "pool worker %d: %v\n", os.Getpid(), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// workerFd is where a worker finds its end of the control channel.
const workerFd = 3

// Serve is a worker's life: it says hello on fd 3, a SOCK_SEQPACKET
// socket from its pool, then runs tasks until the pool closes the channel
// (return nil) or breaks the protocol (an error). If the parent dies
// while a task runs, Serve exits the process at once: nobody is left to
// use the result. A program that dispatches on roles itself can call it
// in place of WorkerMain, in the role "pool-worker" of internal/reexec.
func Serve() error {
	if !sys.IsSeqpacket(workerFd) {
		return errors.New("pool: fd 3 is not a SOCK_SEQPACKET socket: this process was not started by a pool")
	}
	w := &worker{blocks: make(map[uint32]*ndshm.Block), broken: make(map[uint32]error)}
	defer w.closeAll()
	go w.watchParent()
	hello := encodeHello(os.Getpid())
	if err := sys.SendPacket(workerFd, hello[:]); err != nil {
		return err
	}
	buf := make([]byte, 1024) // the largest frame a pool sends is a raw attach, 543 bytes
	for {
		n, fds, err := recv(buf)
		if err != nil {
			return fmt.Errorf("pool: read a frame: %w", err)
		}
		if n == 0 && len(fds) == 0 {
			return nil // the pool is done with us
		}
		if err := w.handle(buf[:n], fds); err != nil {
			return fmt.Errorf("pool: %w", err)
		}
	}
}

// A worker is the state of Serve: the blocks it was handed, by id.
type worker struct {
	blocks map[uint32]*ndshm.Block
	broken map[uint32]error // blocks handed over that would not open
	busy   atomic.Bool
}

// watchParent exits the process if the parent goes while a task runs.
// An idle worker sees EOF in Serve and returns instead.
func (w *worker) watchParent() {
	if sys.WaitHangup(workerFd) == nil && w.busy.Load() {
		os.Exit(0)
	}
}

func (w *worker) closeAll() {
	for _, b := range w.blocks {
		b.Close()
	}
}

// recv reads the pool's next frame, polling for spinFor before it blocks:
// in a run of short tasks the next one comes within microseconds.
func recv(buf []byte) (int, []int, error) {
	sys.SpinReadable(workerFd, spinFor)
	return sys.RecvPacket(workerFd, buf)
}
