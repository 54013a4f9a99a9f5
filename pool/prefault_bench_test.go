package pool_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// BenchmarkFirstCallPrefault times the first call of a 2-worker process
// pool on a fresh 256 MiB block, whose workers map it then, with and
// without the prefault of the partition each worker writes
// (NDSHM_POOL_PREFAULT=0), alternating so the machine's load hits both
// alike. The metric on/off is the ratio of the two sums.
func BenchmarkFirstCallPrefault(b *testing.B) {
	const size = 256 << 20
	on := newProcs(b, 2)
	b.Setenv("NDSHM_POOL_PREFAULT", "0")
	off := newProcs(b, 2)
	for _, op := range []string{"fill=2", "sqrt", "sum"} {
		b.Run(fmt.Sprintf("%s/%dMiB", op, size>>20), func(b *testing.B) {
			var sums [2]time.Duration
			n := 0
			for b.Loop() {
				for k := range 2 {
					i := (k + n) % 2 // alternate which goes first
					sums[i] += firstCall(b, []*pool.Pool{on, off}[i], op, size)
				}
				n++
			}
			b.ReportMetric(float64(sums[0])/float64(sums[1]), "on/off")
			b.ReportMetric(float64(sums[0].Milliseconds())/float64(b.N), "ms-on")
			b.ReportMetric(float64(sums[1].Milliseconds())/float64(b.N), "ms-off")
		})
	}
}

// firstCall times op on a fresh block in p, whose workers map it then.
func firstCall(b *testing.B, p *pool.Pool, op string, size int) time.Duration {
	blk, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{size / 8}})
	if err != nil {
		b.Fatal(err)
	}
	defer blk.Close()
	defer p.Release(blk)
	t := time.Now()
	if op == "sum" {
		_, err = p.Reduce(context.Background(), blk, op)
	} else {
		err = p.Map(context.Background(), blk, op)
	}
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(t)
}
