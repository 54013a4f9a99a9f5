package pool

import (
	"context"
	"fmt"
	"time"
)

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
		return Stats{}, fmt.Errorf("worker %d %w and was killed: %v", pr.pid, ErrProtocol, err)
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
