package pool

import (
	"fmt"
	"os"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

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
	case typeAttach:
		id, name, err := decodeAttach(b)
		if err != nil || len(files) != 1 {
			return fmt.Errorf("%w: attach with %d descriptors (%v)", errFrame, len(files), err)
		}
		return w.attach(id, name, files[0], nil)
	case typeAttachRaw:
		id, name, s, err := decodeAttachRaw(b)
		if err != nil || len(files) != 1 {
			return fmt.Errorf("%w: raw attach with %d descriptors (%v)", errFrame, len(files), err)
		}
		return w.attach(id, name, files[0], &s)
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
	return nil
}

func (w *worker) detach(id uint32) {
	if b := w.blocks[id]; b != nil {
		b.Close()
	}
	delete(w.blocks, id)
	delete(w.broken, id)
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
