package pool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ndshm/ndshm"

	"github.com/ndshm/ndshm/internal/reexec"
)

// A Pool runs ops over partitions of shared arrays: in worker processes
// (New), in goroutines of this process (Goroutines), or one partition
// after another in the calling goroutine (Serial). The three have the
// same API and give the same results, so the cost of crossing a process
// boundary can be measured by swapping one for another.
//
// A Pool is safe for concurrent use; its calls run one at a time. Close
// it when done: a process pool's workers live until then.
type Pool struct {
	mode mode
	n    int // workers
	o    options

	mu     sync.Mutex // held for a whole call; guards the rest
	closed bool
	refs   []*blockRef // blocks recently worked on, most recent first

	procMu sync.Mutex // guards procs; a call's goroutine w owns procs[w]
	procs  []*proc    // process pools: nil where a worker must be started
}

type mode int

const (
	modeProcess mode = iota
	modeGoroutine
	modeSerial
)

// New starts a pool of n worker processes (n < 1: one per CPU) and waits
// until each has said hello. By default a worker is this program
// re-executed (/proc/self/exe), which must call WorkerMain first thing in
// main; the Command option starts any other program that speaks the
// protocol (doc.go). Each worker's GOMAXPROCS is max(1, NumCPU/n), so the
// workers together do not oversubscribe the machine.
//
// New fails in a process that was started as a pool worker but did not
// call WorkerMain: that would start workers recursively.
func New(n int, opts ...Option) (*Pool, error) {
	if reexec.Role() == workerRole {
		return nil, errors.New("pool: this process was started as a pool worker: call pool.WorkerMain first thing in main")
	}
	p := newPool(modeProcess, n, opts)
	p.procs = make([]*proc, p.n)
	errs := make([]error, p.n)
	var wg sync.WaitGroup
	for i := range p.procs {
		wg.Go(func() { p.procs[i], errs[i] = p.start() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, fmt.Errorf("pool: start workers: %w", err)
	}
	return p, nil
}

// Goroutines returns a pool of n goroutines (n < 1: GOMAXPROCS) in this
// process. It needs no Close, but Close is harmless.
func Goroutines(n int, opts ...Option) *Pool { return newPool(modeGoroutine, n, opts) }

// Serial returns a pool that runs every partition in the calling
// goroutine, one after another: the baseline without parallelism. Unless
// ChunkRows says otherwise an array is one partition.
func Serial(opts ...Option) *Pool { return newPool(modeSerial, 1, opts) }

func newPool(m mode, n int, opts []Option) *Pool {
	if n < 1 {
		n = runtime.NumCPU()
		if m == modeGoroutine {
			n = runtime.GOMAXPROCS(0)
		}
	}
	p := &Pool{mode: m, n: n}
	for _, opt := range opts {
		opt(&p.o)
	}
	return p
}

// Workers returns the number of workers: processes, goroutines, or 1.
func (p *Pool) Workers() int { return p.n }

// Mode returns "process", "goroutine" or "serial".
func (p *Pool) Mode() string { return [...]string{"process", "goroutine", "serial"}[p.mode] }

// Pids returns the pids of the worker processes now running, for
// monitoring; nil for other pools. Workers are replaced when they die, so
// the list may change after any call.
func (p *Pool) Pids() []int {
	p.procMu.Lock()
	defer p.procMu.Unlock()
	var pids []int
	for _, pr := range p.procs {
		if pr != nil {
			pids = append(pids, pr.pid)
		}
	}
	return pids
}

// Close stops a process pool's workers: each reads EOF and exits; one
// that has not exited within three seconds is killed, and reported.
// Close waits for them and is idempotent. Calls after Close fail with an
// error that matches os.ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	for len(p.refs) > 0 {
		p.dropRef(0)
	}
	p.procMu.Lock()
	procs := p.procs
	p.procs = nil
	p.procMu.Unlock()
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, pr := range procs {
		if pr != nil {
			wg.Go(func() { errs[i] = pr.stop() })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// An Option configures a Pool.
type Option func(*options)

type options struct {
	command  func() *exec.Cmd
	timeout  time.Duration
	chunk    int
	progress func(rows int)
}

// Command has a process pool start each worker with a command from f, a
// new one each time (workers that die are replaced): any program that
// speaks the protocol in doc.go, such as a Python worker. The pool adds
// its socket as fd 3 (before cmd.ExtraFiles), GOMAXPROCS and GORACE
// (atexit_sleep_ms=0, so that race-enabled workers exit at once) to the
// environment, and a WaitDelay. The program must be the process the
// command starts (exec, not fork, any wrapper): the pool watches and kills
// that process, and must not hand fd 3 to children of its own.
func Command(f func() *exec.Cmd) Option { return func(o *options) { o.command = f } }

// TaskTimeout bounds each task, one partition's work. A worker process
// that has not answered within d is killed (and replaced) and the call
// fails with ErrTimeout. Goroutines cannot be killed: goroutine and serial
// pools ignore it. The default is no limit.
func TaskTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// ChunkRows splits arrays into partitions of n rows along axis 0 (the
// last may be shorter) instead of one per worker: more, smaller
// partitions balance uneven work, and a failed partition has less to
// redo. Workers take partitions in order as they finish others.
func ChunkRows(n int) Option { return func(o *options) { o.chunk = max(n, 0) } }

// Progress has the pool call f with a partition's number of rows each
// time one completes, in any call, so that a caller can show how far a
// long Map has got (with ChunkRows, in steps smaller than a worker's
// share). f is called from the goroutines that run the partitions,
// concurrently: it must be safe for that, and quick.
func Progress(f func(rows int)) Option { return func(o *options) { o.progress = f } }

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
// gives Count 0, Sum 0, and NaN for Min and Max. The built-ins run on
// every numeric dtype, bool and float16 included.
func (p *Pool) Reduce(ctx context.Context, b *ndshm.Block, op string) (Stats, error) {
	return p.do(ctx, "reduce", b, nil, op)
}

func (p *Pool) do(ctx context.Context, verb string, src, dst *ndshm.Block, op string) (Stats, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Stats{}, fmt.Errorf("pool: %s %s: %w", verb, op, errClosed)
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
		return 0, fmt.Errorf("pool: round trip: %w", errClosed)
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

// Errors that callers can test with errors.Is.
var (
	// ErrUnknownOp means no op of that name is registered, or none for the
	// call: Map refuses reductions and Reduce refuses ops that write. An
	// op that exists but not for the array's dtype is an ndshm.ErrDType.
	ErrUnknownOp = errors.New("unknown op")

	// ErrParams means an op string is malformed, or its parameters are
	// wrong for the op or for the array's dtype.
	ErrParams = errors.New("bad op parameters")

	// ErrWorkerDied means a worker process ended during a task: it
	// crashed, was killed, or closed its end of the channel.
	ErrWorkerDied = errors.New("died")

	// ErrTimeout means a task ran past the pool's TaskTimeout. Its
	// worker was killed, and is replaced for the next task.
	ErrTimeout = errors.New("exceeded the task deadline")

	// ErrProtocol means a worker sent something that is not a valid
	// frame. It was killed, and is replaced for the next task.
	ErrProtocol = errors.New("broke the protocol")

	// A call on a closed Pool fails with errClosed, which matches
	// os.ErrClosed, as a closed Block's does.
	errClosed error = closedError{}
)

// closedError is a call on a closed Pool: os.ErrClosed, said of a pool.
type closedError struct{}

func (closedError) Error() string        { return "pool closed" }
func (closedError) Is(target error) bool { return target == os.ErrClosed }

// A PartitionError is the failure of one partition of a Map, MapTo or
// Reduce. Other partitions of the same call may have completed: after a
// failed Map, rows outside the partition may hold new values and the
// partition's rows may be partly transformed.
type PartitionError struct {
	Index  int   // the partition's number, from 0
	Lo, Hi int   // its rows along axis 0, [Lo, Hi)
	Pid    int   // the worker process's pid; 0 for goroutine and serial pools
	Err    error // what went wrong
}

// Error says which partition failed and why: "partition 3 [750, 1000):
// worker 1234 died: signal: killed".
func (e *PartitionError) Error() string {
	return fmt.Sprintf("partition %d [%d, %d): %v", e.Index, e.Lo, e.Hi, e.Err)
}

// Unwrap returns Err, for errors.Is(err, ErrWorkerDied) and the like.
func (e *PartitionError) Unwrap() error { return e.Err }
