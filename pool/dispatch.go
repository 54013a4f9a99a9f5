package pool

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

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

func (pr *proc) hasExited() bool {
	select {
	case <-pr.exited:
		return true
	default:
		return false
	}
}
