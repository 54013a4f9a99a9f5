package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/bench/chart"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/human"
	"github.com/ndshm/ndshm/lock"
	"github.com/ndshm/ndshm/pool"
)

// mapResult is one line of `ndshm bench map --json`.
type mapResult struct {
	Mode    string  `json:"mode"`
	Workers int     `json:"workers"`
	Op      string  `json:"op"`
	Bytes   int     `json:"bytes"`
	First   bool    `json:"first"` // the pool's first call: its workers map the block; P50 is that one time
	P50     float64 `json:"p50_ms"`
}

// mapReport is `ndshm bench map --json`. LockUs is filled in by the lock
// benchmark when there is one.
type mapReport struct {
	Bench   string      `json:"bench"`
	Results []mapResult `json:"results"`
	TaskUs  float64     `json:"task_overhead_us"`
	LockUs  *float64    `json:"lock_us"`
}

var benchMapOps = []string{"sqrt", "affine=2,1"}

// taskRuns is how many empty tasks measure a task's round trip.
const taskRuns = 1000

// benchMap times each op over an anonymous float64 block of size bytes in
// every kind of pool, the first call of each pool apart from the rest,
// and draws them with --plot.
func benchMap(ctx context.Context, out io.Writer, o *Options, size int) error {
	runs := o.runs
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{size / 8}})
	if err != nil {
		return err
	}
	defer b.Close()
	pools, err := benchPools()
	for _, p := range pools {
		defer p.Close()
	}
	if err != nil {
		return err
	}
	if err := pools[0].Map(ctx, b, "fill=2"); err != nil {
		return err
	}
	times, err := mapTimes(ctx, pools, b, runs)
	if err != nil {
		return err
	}
	rep := mapReport{Bench: "map"}
	for i, p := range pools {
		for j, op := range benchMapOps {
			ts := times[i*len(benchMapOps)+j]
			if j == 0 {
				rep.Results = append(rep.Results, mapResult{p.Mode(), p.Workers(), op, 8 * (size / 8), true,
					float64(ts[0].Nanoseconds()) / 1e6})
			}
			p50 := handoff.Percentile(ts[1:], 50) / 1e3
			rep.Results = append(rep.Results, mapResult{p.Mode(), p.Workers(), op, 8 * (size / 8), false, p50})
		}
	}
	trips, err := roundTrips(ctx, pools[3])
	if err != nil {
		return err
	}
	rep.TaskUs = handoff.Percentile(trips, 50)
	lockUs, err := lockRoundTrip(ctx, b)
	if err != nil {
		return err
	}
	rep.LockUs = &lockUs
	if o.plot != "" {
		if err := chart.Save(o.plot, mapChart(rep)); err != nil {
			return err
		}
	}
	if o.json {
		return json.NewEncoder(out).Encode(rep)
	}
	return rep.write(out, runs, handoff.Percentile(trips, 99))
}

// mapTimes runs each op runs+1 times in each pool and returns the times
// per pool and op. Run 0 is the first: process workers map the block
// then. Runs go round the pools in turn, so that a machine busy with
// something else slows all of them alike.
func mapTimes(ctx context.Context, pools []*pool.Pool, b *ndshm.Block, runs int) ([][]time.Duration, error) {
	times := make([][]time.Duration, len(pools)*len(benchMapOps))
	for range runs + 1 {
		for i, p := range pools {
			for j, op := range benchMapOps {
				start := time.Now()
				if err := p.Map(ctx, b, op); err != nil {
					return nil, err
				}
				times[i*len(benchMapOps)+j] = append(times[i*len(benchMapOps)+j], time.Since(start))
			}
		}
	}
	return times, nil
}

// lockRoundTrip is the p50, in µs, of an uncontended region Lock+Unlock.
func lockRoundTrip(ctx context.Context, b *ndshm.Block) (float64, error) {
	t, err := lock.New(b)
	if err != nil {
		return 0, err
	}
	defer t.Close()
	ds := make([]time.Duration, 0, taskRuns)
	for range taskRuns {
		start := time.Now()
		if err := t.Lock(ctx, 0); err != nil {
			return 0, err
		}
		if err := t.Unlock(0); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	return handoff.Percentile(ds, 50), nil
}

// benchPools are serial, goroutines 1 and 2, processes 1 and 2.
func benchPools() ([]*pool.Pool, error) {
	pools := []*pool.Pool{pool.Serial(), pool.Goroutines(1), pool.Goroutines(2)}
	for _, n := range []int{1, 2} {
		p, err := pool.New(n)
		if err != nil {
			return pools, err
		}
		pools = append(pools, p)
	}
	return pools, nil
}

func roundTrips(ctx context.Context, p *pool.Pool) ([]time.Duration, error) {
	ds := make([]time.Duration, taskRuns)
	for i := range ds {
		d, err := p.RoundTrip(ctx)
		if err != nil {
			return nil, err
		}
		ds[i] = d
	}
	return ds, nil
}

// write prints the table and the ratios the figures are for.
func (r mapReport) write(out io.Writer, runs int, taskP99 float64) error {
	warm, first := r.split()
	fmt.Fprintf(out, "in-place map over %s of float64, p50 of %d runs after the first\n\n", human.Bytes(int64(warm[0].Bytes)), runs)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pool\tworkers\top\tp50 ms\tGB/s\tvs serial\t")
	for _, x := range warm {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t%.2f\t%.2f×\t\n", x.Mode, x.Workers, x.Op, x.P50,
			float64(x.Bytes)/x.P50/1e6, warm[indexOf(warm, x.Op)].P50/x.P50)
	}
	tw.Flush()
	fmt.Fprintf(out, "\nfirst call of each pool (%s; process workers map the block then)\n\n", first[0].Op)
	fmt.Fprintln(tw, "pool\tworkers\tfirst ms\twarm p50 ms\tfirst / warm\t")
	for i, x := range first {
		w := warm[2*i].P50
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.2f×\t\n", x.Mode, x.Workers, x.P50, w, x.P50/w)
	}
	tw.Flush()
	// Both ops together, per pool: serial, goroutine 1, 2, process 1, 2.
	both := make([]float64, len(warm)/2)
	for i := range both {
		both[i] = warm[2*i].P50 + warm[2*i+1].P50
	}
	fmt.Fprintf(out, "\nwarm, 2 workers vs 1: goroutines %.2f×, processes %.2f×\n", both[1]/both[2], both[3]/both[4])
	fmt.Fprintf(out, "warm, processes vs goroutines: 1 worker %+.1f%%, 2 workers %+.1f%%\n",
		100*(both[3]/both[1]-1), 100*(both[4]/both[2]-1))
	fmt.Fprintf(out, "task round trip to a worker process (empty op, %d tasks): p50 %.1f µs, p99 %.1f µs\n",
		taskRuns, r.TaskUs, taskP99)
	_, err := fmt.Fprintf(out, "region lock+unlock, uncontended: p50 %.2f µs\n", *r.LockUs)
	return err
}

// split returns the warm rows and the first calls' rows, each in pool order.
func (r mapReport) split() (warm, first []mapResult) {
	for _, x := range r.Results {
		if x.First {
			first = append(first, x)
		} else {
			warm = append(warm, x)
		}
	}
	return warm, first
}

// indexOf finds the serial result for op.
func indexOf(res []mapResult, op string) int {
	for i, x := range res {
		if x.Op == op && x.Mode == "serial" {
			return i
		}
	}
	return 0
}
