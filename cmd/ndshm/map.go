package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/progress"
	"github.com/ndshm/ndshm/internal/specflag"
	"github.com/ndshm/ndshm/pool"
)

const mapAbout = `
Runs OP over the array of the block NAME in place: the array is split by
rows (axis 0) between worker processes, this binary re-executed, each
of which maps the block and transforms its own rows. With --out, the
result goes to a new persistent block NAME2 of the same dtype, shape and
order, and NAME is left as it was. NAME2 appears only once it is
complete: if map fails or is killed, there is no NAME2.

Ops: scale=A (x·A), offset=B (x+B), affine=A,B (A·x+B), sqrt (float
dtypes), square, clip=LO,HI, fill=V. On int and uint arrays parameters
must be whole numbers in range, and arithmetic wraps, as in NumPy.

If a worker dies mid-task, idempotent ops (clip, fill) and --out redo its
rows on a new worker; other in-place ops fail, naming the rows that may
be partly transformed. Prints nothing, or with --json what was done:
{"name","op","out" (null without --out),"count","size_bytes","workers","seconds"}.

A raw block (no ndshm header, such as Python's SharedMemory makes) is
read as --dtype, --shape and --order describe it; workers are told so.

When stderr is a terminal, a map that takes more than a second shows a
progress bar there: the rows are then split into about 8 partitions per
worker, so that the bar moves as they complete.`

// runMap is `ndshm map`.
func runMap(ctx context.Context, e *env, args []string) error {
	f := cmdflag.New(e.stdout, "map", "map NAME --op OP [--workers N] [--out NAME2] [--timeout D] [--json] [--dtype D --shape S [--order C|F]]", mapAbout)
	pf := poolFlags{bar: progress.New(e.stderr, "mapping")}
	pf.bar.SetDelay(time.Second) // only long maps show a bar
	pf.register(f, "sqrt or affine=2,1")
	out := f.String("out", "", "write the result to a new persistent block `NAME2` instead")
	asJSON := f.Bool("json", false, "print what was done as JSON")
	pos, err := f.Parse(args)
	if err == nil {
		err = f.Want(pos, "NAME")
	}
	if err == nil {
		err = pf.check(f)
	}
	if err != nil {
		return err
	}
	b, p, err := pf.open(e, f, pos[0], false)
	if err != nil {
		return err
	}
	defer b.Close()
	defer p.Close()
	pf.bar.Start(b.Name(), int64(b.Spec().Size()))
	defer pf.bar.Clear()
	start := time.Now()
	if err := mapBlock(ctx, f, &pf, p, b, *out); err != nil {
		return err
	}
	if *asJSON {
		return describe.WriteJSON(e.stdout, newMapJSON(b, pf.op, *out, p.Workers(), time.Since(start)))
	}
	return nil
}

// mapJSON is map --json's report.
type mapJSON struct {
	Name      string  `json:"name"`
	Op        string  `json:"op"`
	Out       *string `json:"out"` // null: in place
	Count     int     `json:"count"`
	SizeBytes int     `json:"size_bytes"`
	Workers   int     `json:"workers"`
	Seconds   float64 `json:"seconds"`
}

func newMapJSON(b *ndshm.Block, op, out string, workers int, d time.Duration) mapJSON {
	j := mapJSON{Name: b.Name(), Op: op, Count: b.Spec().Len(), SizeBytes: b.Spec().Size(),
		Workers: workers, Seconds: d.Seconds()}
	if out != "" {
		out = blockName(out)
		j.Out = &out
	}
	return j
}

// mapBlock runs the op over b in place, or into the new block out.
func mapBlock(ctx context.Context, f *cmdflag.Set, pf *poolFlags, p *pool.Pool, b *ndshm.Block, out string) error {
	if out == "" {
		return pf.opErr(f, p.Map(ctx, b, pf.op))
	}
	// The result is filled while it has no name, and named only when
	// complete: nobody sees it half done, and if we are killed meanwhile
	// the kernel frees it with our descriptors and the workers'.
	var mapErr error
	dst, err := ndshm.Create(blockName(out), b.Spec(), ndshm.Persistent(), ndshm.Init(func(dst *ndshm.Block) error {
		mapErr = p.MapTo(ctx, b, dst, pf.op)
		return mapErr
	}))
	if mapErr != nil {
		return pf.opErr(f, mapErr)
	}
	if err != nil {
		return err
	}
	return dst.Close()
}

// poolFlags are the flags of the commands that run a pool.
type poolFlags struct {
	op      string
	workers int
	timeout time.Duration
	spec    specflag.Flags // of a raw block, and --allow-foreign
	bar     *progress.Bar  // map's, moved as partitions complete; nil for reduce
}

func (pf *poolFlags) register(f *cmdflag.Set, example string) {
	pf.spec.RegisterRead(f)
	f.StringVar(&pf.op, "op", "", "the op to run, `OP`, such as "+example)
	f.IntVar(&pf.workers, "workers", 0, "the number `N` of worker processes (default: one per CPU; at most 4 per CPU and one per row)")
	f.DurationVar(&pf.timeout, "timeout", 0, "kill a worker whose part takes longer than `D` (default: no limit)")
}

// check checks the op's syntax before any block is opened.
func (pf *poolFlags) check(f *cmdflag.Set) error {
	if pf.op == "" {
		return f.UsageErr("--op is required")
	}
	if _, _, err := pool.ParseOp(pf.op); err != nil {
		return f.UsageErr("--op: %v", err)
	}
	if pf.workers < 0 {
		return f.UsageErr("--workers must be positive")
	}
	return nil
}

// open opens the block name, checks that the op runs on its dtype, and
// starts the workers for it.
func (pf *poolFlags) open(e *env, f *cmdflag.Set, name string, reduce bool) (*ndshm.Block, *pool.Pool, error) {
	pf.spec.ReadOnly = reduce // a reduction only reads; a map writes
	b, err := openBlock(blockName(name), f, &pf.spec)
	if err != nil {
		return nil, nil, err
	}
	if err := pool.Check(pf.op, reduce, b.DType()); err != nil {
		b.Close()
		if errors.Is(err, ndshm.ErrDType) {
			return nil, nil, fmt.Errorf("%s %s: %w", f.Command(), name, err)
		}
		return nil, nil, &cmdflag.UsageError{Err: fmt.Errorf("%s: --op: %w", f.Command(), err), Usage: f.ShortUsage}
	}
	opts := []pool.Option{pool.TaskTimeout(pf.timeout)}
	if pf.bar != nil {
		opts = append(opts, progressOpts(pf.bar, b.Spec(), pf.workers)...)
	}
	p, err := blockPool(e, f.Command(), pf.workers, b, opts...)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return b, p, nil
}

// progressOpts are the pool options that move bar as partitions of an
// array of spec s complete. Only a bar that draws changes the split: into
// about 8 partitions per worker, so that it moves in small steps. Else the
// pool splits as always, one partition per worker.
func progressOpts(bar *progress.Bar, s ndshm.Spec, asked int) []pool.Option {
	rows := rowsOf(s)
	rowBytes := int64(s.Size() / max(rows, 1))
	opts := []pool.Option{pool.Progress(func(n int) { bar.Add(int64(n) * rowBytes) })}
	if bar.Live() {
		n, _ := workerCount(asked, rows)
		opts = append(opts, pool.ChunkRows((rows+8*n-1)/(8*n)))
	}
	return opts
}

// opErr makes an unknown op or bad parameters a usage error.
func (pf *poolFlags) opErr(f *cmdflag.Set, err error) error {
	if errors.Is(err, pool.ErrUnknownOp) || errors.Is(err, pool.ErrParams) {
		return &cmdflag.UsageError{Err: err, Usage: f.ShortUsage}
	}
	return err
}
