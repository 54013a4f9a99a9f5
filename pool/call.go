package pool

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/fault"
)

// A call is one Map, MapTo or Reduce, checked and partitioned before any
// task runs.
type call struct {
	def            *opDef
	params         Params
	impl           impl
	src, dst       *ndshm.Block
	srcRef, dstRef *blockRef
	parts          []part
	rowLen         int  // elements per row along axis 0
	safe           bool // a partition may be redone without changing the result
}

// prepare checks everything that can be checked before any task runs:
// the op, its parameters for this dtype, the blocks, and the partitions.
// The caller holds p.mu.
func (p *Pool) prepare(reduce bool, src, dst *ndshm.Block, op string) (*call, error) {
	spec := src.Spec()
	def, params, f, err := check(op, reduce, spec.DType)
	if err != nil {
		return nil, err
	}
	c := &call{def: def, params: params, impl: f, src: src, dst: dst, safe: def.readOnly || def.idempotent || dst != nil}
	if err := c.refs(p); err != nil {
		return nil, err
	}
	n := rowsOf(spec)
	c.rowLen = spec.Len() / max(n, 1)
	c.parts = split(n, p.n, p.o.chunk)
	if err := checkParts(c.parts, n); err != nil {
		return nil, err
	}
	return c, nil
}

// Check checks, running nothing, what Reduce (reduce true) or Map and
// MapTo check first: that op is well-formed and registered, that it is a
// reduction for Reduce and writes for Map, that it runs on arrays of
// dtype dt (an error wrapping ndshm.ErrDType if not), and that its
// parameters suit it. A caller can check before it starts a pool.
func Check(op string, reduce bool, dt ndshm.DType) error {
	_, _, _, err := check(op, reduce, dt)
	return err
}

func check(op string, reduce bool, dt ndshm.DType) (*opDef, Params, impl, error) {
	name, params, err := ParseOp(op)
	if err != nil {
		return nil, nil, nil, err
	}
	def, err := lookup(name)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case reduce && !def.readOnly:
		return nil, nil, nil, fmt.Errorf("%w for Reduce: %q writes the array (run it with Map)", ErrUnknownOp, name)
	case !reduce && def.readOnly:
		return nil, nil, nil, fmt.Errorf("%w for Map: %q is a reduction (run it with Reduce)", ErrUnknownOp, name)
	}
	f, err := def.implFor(dt)
	if err == nil {
		err = def.validate(params, dt)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return def, params, f, nil
}

// refs identifies the call's blocks and checks that a destination fits
// its source and is another file.
func (c *call) refs(p *Pool) error {
	var err error
	if c.srcRef, err = p.ref(c.src); err != nil {
		return fmt.Errorf("block %q: %w", c.src.Name(), err)
	}
	if c.dst == nil {
		return nil
	}
	if c.dstRef, err = p.ref(c.dst); err != nil {
		return fmt.Errorf("destination %q: %w", c.dst.Name(), err)
	}
	switch {
	case !sameLayout(c.src.Spec(), c.dst.Spec()):
		return fmt.Errorf("destination %v does not match source %v", c.dst.Spec(), c.src.Spec())
	case c.srcRef.id == c.dstRef.id:
		return errors.New("source and destination are the same block: use Map")
	}
	return nil
}

// check checks a worker's result for a partition against what a built-in
// op must return: every element counted, a histogram of the asked size.
func (c *call) check(s Stats, pt part) error {
	if !c.def.exact {
		return nil
	}
	if want := int64((pt.hi - pt.lo) * c.rowLen); s.Count != want {
		return fmt.Errorf("%s counted %d elements of a partition of %d", c.def.name, s.Count, want)
	}
	want := 0
	if c.def.bins != nil {
		want = c.def.bins(c.params)
	}
	if len(s.Hist) != want && (s.Count > 0 || len(s.Hist) > 0) { // no elements: perhaps no histogram
		return fmt.Errorf("%s returned %d bins, want %d", c.def.name, len(s.Hist), want)
	}
	var binned uint64 // at most s.Count, so no sum of bins can wrap
	for i, n := range s.Hist {
		if n > uint64(s.Count)-binned {
			return fmt.Errorf("%s put more elements in bins [0, %d] than the %d it counted", c.def.name, i, s.Count)
		}
		binned += n
	}
	return nil
}

// maxAttempts bounds how often one partition runs: a worker that dies on
// every attempt (an op that crashes it) fails the call instead of
// looping.
const maxAttempts = 3

// dispatch runs every partition of c, each worker taking the next one
// when it is free, and returns their stats in partition order. After the
// first failure no new partition starts; running ones finish (or, if the
// context is done, their worker processes are killed). dispatch returns
// only when no worker is working on c.
func (p *Pool) dispatch(ctx context.Context, c *call) ([]Stats, error) {
	stats := make([]Stats, len(c.parts))
	var (
		next, done atomic.Int64
		failed     atomic.Bool
		mu         sync.Mutex
		errs       []error
	)
	work := func(w int) {
		for !failed.Load() && ctx.Err() == nil {
			i := int(next.Add(1) - 1)
			if i >= len(c.parts) {
				return
			}
			s, err := p.runPart(ctx, w, c, i)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				failed.Store(true)
				return
			}
			stats[i] = s
			done.Add(1)
			if p.o.progress != nil {
				p.o.progress(c.parts[i].hi - c.parts[i].lo)
			}
		}
	}
	if workers := min(p.n, len(c.parts)); workers <= 1 || p.mode == modeSerial {
		work(0) // in the calling goroutine: no hand-off for one worker
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { work(w) })
		}
		wg.Wait()
	}
	switch {
	case int(done.Load()) == len(c.parts):
		return stats, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%w: %d of %d partitions done", context.Cause(ctx), done.Load(), len(c.parts))
	}
	slices.SortFunc(errs, func(a, b error) int { return a.(*PartitionError).Index - b.(*PartitionError).Index })
	return nil, errors.Join(errs...)
}

// runPart runs partition i on worker w, again on a fresh worker when
// that is safe, up to maxAttempts times.
func (p *Pool) runPart(ctx context.Context, w int, c *call, i int) (Stats, error) {
	pt := c.parts[i]
	for attempt := 1; ; attempt++ {
		s, pid, err := p.runOnce(ctx, w, c, pt)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil || !retryable(err, c.safe) || attempt == maxAttempts {
			if attempt > 1 {
				err = fmt.Errorf("%w (attempt %d of %d)", err, attempt, maxAttempts)
			}
			return Stats{}, &PartitionError{Index: i, Lo: pt.lo, Hi: pt.hi, Pid: pid, Err: err}
		}
	}
}

// runOnce runs a partition on worker w: a call to execute in goroutine
// and serial pools; a task for worker process w, which is started first
// if it died since its last task.
func (p *Pool) runOnce(ctx context.Context, w int, c *call, pt part) (Stats, int, error) {
	if p.mode != modeProcess {
		s, err := execute(c.impl, c.src, c.dst, pt.lo, pt.hi, c.params)
		return s, 0, err
	}
	pr, err := p.live(w)
	if err != nil {
		return Stats{}, 0, err
	}
	s, err := pr.run(ctx, c, pt, p.o.timeout)
	if pr.broken {
		p.replace(w, pr)
	}
	return s, pr.pid, err
}

// live returns worker w, starting a new one in place of one that died.
func (p *Pool) live(w int) (*proc, error) {
	p.procMu.Lock()
	pr := p.procs[w]
	p.procMu.Unlock()
	if pr != nil && !pr.broken && !pr.hasExited() {
		return pr, nil
	}
	if pr != nil {
		p.replace(w, pr)
	}
	pr, err := p.start()
	if err != nil {
		return nil, fmt.Errorf("replace a worker: %w", err)
	}
	p.procMu.Lock()
	p.procs[w] = pr
	p.procMu.Unlock()
	return pr, nil
}

// replace discards worker w; the next task on w starts a new one.
func (p *Pool) replace(w int, pr *proc) {
	pr.discard()
	p.procMu.Lock()
	p.procs[w] = nil
	p.procMu.Unlock()
}

// execute runs f over rows [lo, hi) of src (and dst), after checking the
// rows against the arrays themselves, and times it. This is what a worker
// process and a goroutine worker both do with a task. A panic in the op
// (a bug in a registered function, or a memory fault because another
// process truncated a named block) becomes an error: neither a worker nor
// the caller's process dies of it.
func execute(f impl, src, dst *ndshm.Block, lo, hi int, p Params) (s Stats, err error) {
	if err := checkRange(src, lo, hi); err != nil {
		return Stats{}, err
	}
	if dst != nil && !sameLayout(src.Spec(), dst.Spec()) {
		return Stats{}, fmt.Errorf("destination %v does not match source %v", dst.Spec(), src.Spec())
	}
	if lo == hi {
		return Stats{}, nil // ops never see an empty partition
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if err = fault.Of(r); err == nil {
				err = fmt.Errorf("panic: %v%s", r, panicSite())
			}
		}
	}()
	start := time.Now()
	s, err = f(src, dst, lo, hi, p)
	s.Elapsed = time.Since(start)
	return s, err
}

// sameLayout reports whether two arrays have the same dtype, shape and
// order, so that the same rows of each are the same elements.
func sameLayout(a, b ndshm.Spec) bool {
	return a.DType.Equal(b.DType) && slices.Equal(a.Shape, b.Shape) && a.Fortran == b.Fortran
}

// panicSite returns " at file:line" of the function that panicked, when
// called from a deferred function during the panic.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs) // skip Callers, panicSite, the deferred function
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
