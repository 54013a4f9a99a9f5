package pool

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

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
// Close waits for them and is idempotent. Calls after Close fail with
// ErrClosed.
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
