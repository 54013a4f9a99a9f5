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
	w := &worker{blocks: make(map[uint32]*ndshm.Block), broken: make(map[uint32]error), fresh: make(map[uint32]bool)}
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
	fresh  map[uint32]bool  // blocks mapped but not yet written to by a task (prefault.go)
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

// handle acts on one frame from the pool. Descriptors come only with
// attach frames; any others are closed. An error ends the worker.
func (w *worker) handle(b []byte, fds []int) error {
	var files []*os.File
	for _, fd := range fds {
		files = append(files, os.NewFile(uintptr(fd), "block"))
	}
	defer func() {
		for _, f := range files {
			f.Close() // FromFile keeps a duplicate of what it maps
		}
	}()
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", errFrame, len(b))
	}
	if b[1] != typeAttach && b[1] != typeAttachRaw && len(files) > 0 {
		return fmt.Errorf("%w: %q frame with %d descriptors", errFrame, b[1], len(files))
	}
	switch b[1] {
	case typeAttach, typeAttachRaw:
		return w.attachFrame(b, files)
	case typeDetach:
		id, err := decodeDetach(b)
		if err == nil {
			w.detach(id)
		}
		return err
	case typeTask:
		if err := checkHead(b, typeTask, taskSize, taskSize); err != nil {
			return err // not a task we could answer
		}
		t, err := decodeTask(b)
		if err != nil {
			// A task with fields out of bounds is still a task: say why
			// it cannot run, in its result.
			r := result{seq: le.Uint32(b[4:]), err: err.Error()}
			return sys.SendPacket(workerFd, r.encode())
		}
		w.busy.Store(true)
		r := w.run(&t)
		w.busy.Store(false)
		return sys.SendPacket(workerFd, r.encode())
	}
	return fmt.Errorf("%w: unknown type %q", errFrame, b[1])
}

// attachFrame decodes an attach or raw attach frame, which comes with
// exactly one descriptor, and attaches the block.
func (w *worker) attachFrame(b []byte, files []*os.File) error {
	var (
		id   uint32
		name string
		s    *ndshm.Spec // nil: the block has a header
		err  error
	)
	if b[1] == typeAttachRaw {
		var raw ndshm.Spec
		id, name, raw, err = decodeAttachRaw(b)
		s = &raw
	} else {
		id, name, err = decodeAttach(b)
	}
	switch {
	case err != nil:
		return err
	case len(files) != 1:
		return fmt.Errorf("%w: %q frame with %d descriptors, want 1", errFrame, b[1], len(files))
	}
	return w.attach(id, name, files[0], s)
}

// attach maps the block open as f under id: as its header says, or raw
// as s says. A block that will not open is remembered as such: tasks on
// it fail with the reason.
func (w *worker) attach(id uint32, name string, f *os.File, s *ndshm.Spec) error {
	if w.blocks[id] != nil || w.broken[id] != nil {
		return fmt.Errorf("%w: block id %d attached twice", errFrame, id)
	}
	var b *ndshm.Block
	var err error
	if s != nil {
		b, err = ndshm.FromFileRaw(f, *s)
	} else {
		b, err = ndshm.FromFile(f)
	}
	if err != nil {
		w.broken[id] = fmt.Errorf("block %q: %w", name, err)
		return nil
	}
	w.blocks[id] = b
	w.fresh[id] = true
	return nil
}

func (w *worker) detach(id uint32) {
	if b := w.blocks[id]; b != nil {
		b.Close()
	}
	delete(w.blocks, id)
	delete(w.broken, id)
	delete(w.fresh, id)
}

// run runs a task and says how it went.
func (w *worker) run(t *task) result {
	s, err := w.exec(t)
	if err != nil {
		return result{seq: t.seq, err: err.Error()}
	}
	return result{seq: t.seq, stats: s}
}

func (w *worker) exec(t *task) (Stats, error) {
	def, err := lookup(t.op)
	if err != nil {
		return Stats{}, err
	}
	if t.src == 0 && t.op == "noop" && t.lo == 0 && t.hi == 0 {
		return Stats{}, nil // the round-trip probe
	}
	src, err := w.block(t.src)
	if err != nil {
		return Stats{}, err
	}
	var dst *ndshm.Block
	if t.dst != 0 && t.dst == t.src {
		return Stats{}, fmt.Errorf("task with block %d as its source and destination", t.src)
	}
	if t.dst != 0 {
		if dst, err = w.block(t.dst); err != nil {
			return Stats{}, err
		}
	}
	f, err := def.implFor(src.DType())
	if err == nil {
		err = def.validate(t.paramSlice(), src.DType())
	}
	if err != nil {
		return Stats{}, err
	}
	w.prefaultFirst(t, def, src, dst)
	return execute(f, src, dst, int(t.lo), int(t.hi), t.paramSlice())
}

func (w *worker) block(id uint32) (*ndshm.Block, error) {
	if b := w.blocks[id]; b != nil {
		return b, nil
	}
	if err := w.broken[id]; err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("no block with id %d", id)
}
