package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// mapped is the demo's map/reduce part: worker processes transform their
// own rows of one shared array in place, then sum them; only op names,
// row ranges and four numbers per partition cross between processes.
func (d *session) mapped(ctx context.Context) error {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{demoLen}})
	if err != nil {
		return err
	}
	defer b.Close()
	fmt.Fprintf(d.out, "\nmap/reduce: x ↦ 2x+1 in place over all %d MiB, then the sum, in each kind of pool\n\n", demoLen*8>>20)
	procs, err := pool.New(2)
	if err != nil {
		return err
	}
	defer procs.Close()
	for _, p := range []*pool.Pool{pool.Serial(), pool.Goroutines(2), procs} {
		if err := d.mapReduce(ctx, p, b); err != nil {
			return err
		}
	}
	return nil
}

// mapReduce refills b with 0, 1, 2, …, maps and reduces it with p, and
// checks the sum: Σ(2i+1) over i < n is n², exact in float64 here.
func (d *session) mapReduce(ctx context.Context, p *pool.Pool, b *ndshm.Block) error {
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	for i := range xs {
		xs[i] = float64(i)
	}
	start := time.Now()
	if err := p.Map(ctx, b, "affine=2,1"); err != nil {
		return err
	}
	s, err := p.Reduce(ctx, b, "sum")
	took := time.Since(start)
	if err != nil {
		return err
	}
	if want := float64(demoLen) * float64(demoLen); s.Sum != want || xs[demoLen-1] != 2*(demoLen-1)+1 {
		return fmt.Errorf("%s pool: sum %v, want %v", p.Mode(), s.Sum, want)
	}
	d.res.Pools = append(d.res.Pools, PoolRun{p.Mode(), p.Workers(), took, s.Sum})
	d.step("   %-9s × %d: map affine=2,1, reduce sum = %.0f (checked)", p.Mode(), p.Workers(), s.Sum)(took)
	return nil
}
