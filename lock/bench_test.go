package lock_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/lock"
)

// BenchmarkLockUnlock is an uncontended write lock and release: two
// fcntl calls and the Table's bookkeeping.
func BenchmarkLockUnlock(b *testing.B) {
	tab := newTable(b, newBlock(b, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := tab.Lock(ctx, 7); err != nil {
			b.Fatal(err)
		}
		if err := tab.Unlock(7); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRLock is an uncontended read lock and release.
func BenchmarkRLock(b *testing.B) {
	tab := newTable(b, newBlock(b, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := tab.RLock(ctx, 7); err != nil {
			b.Fatal(err)
		}
		if err := tab.RUnlock(7); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockRange takes 64 regions in one call.
func BenchmarkLockRange(b *testing.B) {
	tab := newTable(b, newBlock(b, 1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := tab.LockRange(ctx, 0, 64); err != nil {
			b.Fatal(err)
		}
		if err := tab.UnlockRange(0, 64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandoff measures how late a waiter polling for another
// description's lock sees its release (ns/handoff), after the holder
// kept it a short or a long while: the price of polling instead of a
// blocking F_OFD_SETLKW.
func BenchmarkHandoff(b *testing.B) {
	for _, hold := range []time.Duration{200 * time.Microsecond, 10 * time.Millisecond} {
		b.Run("hold="+hold.String(), func(b *testing.B) {
			blk := newBlock(b, 1)
			holder, waiter := newTable(b, blk), newTable(b, blk)
			ctx := context.Background()
			var late time.Duration
			for b.Loop() {
				holder.Lock(ctx, 0)
				got := make(chan time.Time)
				go func() { waiter.Lock(ctx, 0); got <- time.Now() }()
				for start := time.Now(); time.Since(start) < hold; {
					runtime.Gosched() // not time.Sleep: it rounds up to 1 ms
				}
				released := time.Now()
				holder.Unlock(0)
				late += (<-got).Sub(released)
				waiter.Unlock(0)
			}
			b.ReportMetric(float64(late.Nanoseconds())/float64(b.N), "ns/handoff")
		})
	}
}

// BenchmarkAddFloat64 adds into a block's memory: alone, and from every
// P at once on one element (the worst case: every CAS contends).
func BenchmarkAddFloat64(b *testing.B) {
	blk, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{1}})
	if err != nil {
		b.Fatal(err)
	}
	defer blk.Close()
	a, _ := ndshm.View[float64](blk)
	p := a.Addr(0)
	b.Run("uncontended", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			lock.AddFloat64(p, 1)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				lock.AddFloat64(p, 1)
			}
		})
	})
}

// BenchmarkAddInt64 is AddFloat64's integer twin, a single LOCK XADD.
func BenchmarkAddInt64(b *testing.B) {
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		lock.AddInt64(&n, 1)
	}
}
