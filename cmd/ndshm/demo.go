package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm"
)

// demoLen is the demo array's length: 32 Mi float64, 256 MiB.
const demoLen = 32 << 20

// demo is `ndshm demo`: one job, a worker process transforming half of a
// 256 MiB array and summing it, done through shared memory and then
// through a copying channel, side by side.
type demo struct {
	out  io.Writer
	name string
	rows []demoRow
}

type demoRow struct {
	method string
	took   time.Duration
	moved  string // bytes that crossed between the processes
}

func runDemo(ctx context.Context, out io.Writer) error {
	d := &demo{out: out, name: fmt.Sprintf("ndshm-demo-%d", os.Getpid())}
	fmt.Fprintf(out, "ndshm demo: a worker process doubles-and-adds-one half of a %d MiB float64 array and sums it\n\n", demoLen*8>>20)
	w, err := startDemoWorker()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := d.shared(ctx, w); err != nil {
		return err
	}
	if err := d.copied(w); err != nil {
		return err
	}
	d.table()
	if err := d.mapped(ctx); err != nil {
		return err
	}
	if err := d.streamed(ctx); err != nil {
		return err
	}
	return d.served(ctx)
}

// shared is the ndshm way: fill a block once, pass its name.
func (d *demo) shared(ctx context.Context, w *demoWorker) error {
	start := time.Now()
	b, err := ndshm.Create(d.name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{demoLen}})
	if err != nil {
		return err
	}
	defer b.Close() // owned: unlinks the name too
	a, err := ndshm.View[float64](b)
	if err != nil {
		return err
	}
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = float64(i)
	}
	d.step("1. loader made block %s (float64[%d]) and filled it", d.name, demoLen)(time.Since(start))

	handoff, err := d.handoff(w)
	if err != nil {
		return err
	}
	d.step("2. a worker process attached by name and touched it (no work)")(handoff)

	start = time.Now()
	sum, _, err := w.call(opShared, 0, demoLen/2, []byte(d.name))
	took := time.Since(start)
	if err != nil {
		return err
	}
	if err := check(xs, sum); err != nil {
		return err
	}
	d.step("3. the worker transformed rows [0, %d) in place and sent back their sum %.0f", demoLen/2, sum)(took)
	d.rows = append(d.rows, demoRow{"ndshm (name + 2 ints)", took, fmt.Sprintf("%d B", 25+len(d.name)+16)})
	return d.python(ctx, xs)
}

// handoff times an attach with no work: the price of sharing by name.
func (d *demo) handoff(w *demoWorker) (time.Duration, error) {
	best := time.Hour
	for range 5 {
		start := time.Now()
		if _, _, err := w.call(opShared, 0, 0, []byte(d.name)); err != nil {
			return 0, err
		}
		best = min(best, time.Since(start))
	}
	return best, nil
}

// step prints one line of progress, its time and "ok".
func (d *demo) step(format string, args ...any) func(time.Duration) {
	return func(took time.Duration) {
		fmt.Fprintf(d.out, "%-90s %10s\n", fmt.Sprintf(format, args...), round(took))
	}
}

func round(t time.Duration) time.Duration {
	switch {
	case t > time.Second:
		return t.Round(time.Millisecond)
	case t > time.Millisecond:
		return t.Round(10 * time.Microsecond)
	}
	return t.Round(100 * time.Nanosecond)
}

// check verifies every element and the worker's sum against the job's
// definition, with exact integer arithmetic (all values are integers
// below 2^53, so float64 sums are exact in any order).
func check(xs []float64, sum float64) error {
	half := len(xs) / 2
	for i, x := range xs {
		want := float64(i)
		if i < half {
			want = 2*want + 1
		}
		if x != want {
			return fmt.Errorf("element %d is %v, want %v", i, x, want)
		}
	}
	if want := float64(half) * float64(half); sum != want {
		return fmt.Errorf("worker's sum is %v, want %v", sum, want)
	}
	return nil
}

func (d *demo) table() {
	fmt.Fprintln(d.out)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "same job, two channels\ttime\tbytes between processes\t")
	for _, r := range d.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", r.method, round(r.took), r.moved)
	}
	tw.Flush()
	if len(d.rows) == 2 {
		fmt.Fprintf(d.out, "\nshared memory did the job %.1f× faster, moving %s instead of %s.\n",
			float64(d.rows[1].took)/float64(d.rows[0].took), d.rows[0].moved, d.rows[1].moved)
	}
}
