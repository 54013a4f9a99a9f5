package pool_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/pool"
)

// BenchmarkMap runs sqrt in place over a float64 array in each kind of
// pool: compare ns/op (or MB/s) across pools at one size to see what
// parallelism gives and what the process boundary costs. `ndshm bench
// map` measures the same at 400 MiB.
func BenchmarkMap(b *testing.B) {
	for _, size := range []int{1 << 20, 32 << 20} {
		blk := newBlock(b, ndshm.Spec{DType: ndshm.Float64, Shape: []int{size / 8}}, true)
		if err := pool.Serial().Map(context.Background(), blk, "fill=2"); err != nil {
			b.Fatal(err)
		}
		for _, p := range []*pool.Pool{pool.Serial(), pool.Goroutines(2), newProcs(b, 1), newProcs(b, 2)} {
			b.Run(fmt.Sprintf("%s-%d/%dMiB", p.Mode(), p.Workers(), size>>20), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				ctx := context.Background()
				for b.Loop() {
					if err := p.Map(ctx, blk, "sqrt"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCallOverhead measures a whole Map call that has nothing to
// do: checks, partitioning, dispatch and one task's round trip.
func BenchmarkCallOverhead(b *testing.B) {
	blk := newBlock(b, ndshm.Spec{DType: ndshm.Float64, Shape: []int{8}}, true)
	for _, p := range []*pool.Pool{pool.Serial(), pool.Goroutines(2), newProcs(b, 1), newProcs(b, 2)} {
		b.Run(poolName(p), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Map(context.Background(), blk, "noop"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTaskOverhead measures one task's round trip with the empty op
// over no data: the fixed cost of a partition. p50 and p99 are in µs.
func BenchmarkTaskOverhead(b *testing.B) {
	for _, p := range []*pool.Pool{pool.Serial(), pool.Goroutines(1), newProcs(b, 1)} {
		b.Run(p.Mode(), func(b *testing.B) {
			b.ReportAllocs()
			var ds []time.Duration
			for b.Loop() {
				d, err := p.RoundTrip(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				ds = append(ds, d)
			}
			b.ReportMetric(handoff.Percentile(ds, 50), "p50-µs")
			b.ReportMetric(handoff.Percentile(ds, 99), "p99-µs")
		})
	}
}
