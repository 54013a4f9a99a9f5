package pool

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ndshm/ndshm"
)

// Map runs op, such as "sqrt" or "affine=2,1", over b's array in place:
// each worker transforms its own partition, a contiguous range of rows
// along axis 0, and the caller sees the result at once. The op, its
// parameters and the partitions are checked before anything is written.
//
// If a worker process dies during a task, its partition is redone on a
// new worker when the op is registered Idempotent; otherwise Map fails
// with a *PartitionError naming the partition, whose rows may then be
// partly transformed. A cancelled ctx stops Map promptly: worker
// processes in the middle of a task are killed (goroutines finish their
// partition) and no other partition starts; unless every partition was
// done by then, the error wraps ctx's. Either way no worker touches b
// after Map returns.
func (p *Pool) Map(ctx context.Context, b *ndshm.Block, op string) error {
	_, err := p.do(ctx, "map", b, nil, op)
	return err
}

// MapTo runs op over src's array into dst, which must have the same
// dtype, shape and order: each partition is copied into dst and
// transformed there; src is only read. Since src is unchanged, a
// partition whose worker died is always redone.
func (p *Pool) MapTo(ctx context.Context, src, dst *ndshm.Block, op string) error {
	_, err := p.do(ctx, "map", src, dst, op)
	return err
}

// Reduce runs a read-only op over b's array and combines the partitions'
// stats in the caller, in partition order: counts, sums and histogram
// bins add, min and max combine. The built-ins are sum, min, max and
// mean (Stats.Mean), each of which returns all of Count, Sum, Min and
// Max; count, which reads nothing and returns Count (Min and Max NaN);
// and histogram=bins,lo,hi, which returns Count and Hist. An empty array
// gives Count 0, Sum 0, and NaN for Min and Max.
func (p *Pool) Reduce(ctx context.Context, b *ndshm.Block, op string) (Stats, error) {
	return p.do(ctx, "reduce", b, nil, op)
}

func (p *Pool) do(ctx context.Context, verb string, src, dst *ndshm.Block, op string) (Stats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Stats{}, fmt.Errorf("pool: %s %s: %w", verb, op, ErrClosed)
	}
	c, err := p.prepare(verb == "reduce", src, dst, op)
	if err != nil {
		return Stats{}, fmt.Errorf("pool: %s %s: %w", verb, op, err)
	}
	parts, err := p.dispatch(ctx, c)
	if err != nil {
		return Stats{}, fmt.Errorf("pool: %s %s: %w", verb, op, err)
	}
	total := emptyStats()
	if c.def.bins != nil {
		total.Hist = make([]uint64, c.def.bins(c.params))
	}
	for i, s := range parts {
		if err := total.merge(s); err != nil {
			return Stats{}, fmt.Errorf("pool: %s %s: partition %d: %w", verb, op, i, err)
		}
	}
	total.finish()
	return total, nil
}

// RoundTrip runs the empty op over no data on one worker and returns how
// long the round trip took: the fixed cost of one task (for processes, a
// frame each way over the socket and two wake-ups). For a goroutine pool
// it is starting a goroutine and waiting for it; for a serial pool, a
// function call.
func (p *Pool) RoundTrip(ctx context.Context) (time.Duration, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	start := time.Now()
	var err error
	switch p.mode {
	case modeProcess:
		var pr *proc
		if pr, err = p.live(0); err == nil {
			err = pr.ping(ctx, p.o.timeout)
			if pr.broken {
				p.replace(0, pr)
			}
		}
	case modeGoroutine:
		done := make(chan struct{})
		go func() { noopK[float64](nil, nil, nil); close(done) }()
		<-done
	}
	return time.Since(start), err
}

// Release drops the pool's hold on b. A pool keeps the last few blocks
// it ran ops on open, and its worker processes keep them mapped, so that
// calls on the same block skip attaching it (for a worker, filling its
// page tables: about 6 ms per 100 MiB). So a block that was closed and
// unlinked keeps its memory until it falls out of that set, Release, or
// the pool's Close. Call Release before closing a large block that the
// pool may still hold.
func (p *Pool) Release(b *ndshm.Block) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ref := &blockRef{b: b}
	if i := slices.IndexFunc(p.refs, func(r *blockRef) bool { return r.b == b }); i >= 0 {
		ref = p.refs[i]
		p.dropRef(i) // closes ref.file; its id and b still serve below
	}
	p.procMu.Lock()
	defer p.procMu.Unlock()
	for _, pr := range p.procs {
		if pr != nil && !pr.broken && pr.forget(ref) != nil {
			pr.broken = true // it is gone, and its mappings with it
		}
	}
}
