package ndshm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/sys"
)

// reopenSizes are the block sizes the reopen benchmarks sweep: a warm
// reopen must not grow with them, a cold one pays for a new mapping.
var reopenSizes = []int{1 << 20, 100 << 20, 1 << 30}

// benchBlocks runs fn for each size on a persistent block of that size,
// which this process no longer maps.
func benchBlocks(b *testing.B, fn func(b *testing.B, name string)) {
	for _, size := range reopenSizes {
		name := shmtest.Name()
		c, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{size}}, ndshm.Persistent())
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		b.Run(fmt.Sprintf("size=%dMiB", size>>20), func(b *testing.B) {
			b.ReportAllocs()
			fn(b, name)
		})
		if err := ndshm.Unlink(name); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopenWarm opens and closes a block this process holds open
// (and has touched): it reuses the warm mapping. Compare it with
// BenchmarkOpenCloseSyscalls; the target is at most 2×. Each iteration
// also times a bare open(2)+close(2) of the file right after the reopen,
// and the metric warm/syscalls is the ratio of the two sums, which the
// machine's load affects alike.
func BenchmarkReopenWarm(b *testing.B) {
	benchBlocks(b, func(b *testing.B, name string) {
		held, err := ndshm.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		defer held.Close()
		held.Bytes()[0]++
		var warm, bare time.Duration
		for b.Loop() {
			t0 := time.Now()
			o, err := ndshm.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			o.Bytes()[0]++ // one page, warm
			o.Close()
			t1 := time.Now()
			fd, err := sys.Open(name, true)
			if err != nil {
				b.Fatal(err)
			}
			sys.Close(fd)
			warm, bare = warm+t1.Sub(t0), bare+time.Since(t1)
		}
		b.ReportMetric(float64(warm)/float64(bare), "warm/syscalls")
	})
}

// BenchmarkReopenCold opens a block nobody in this process maps, touches
// one page of its data through the new mapping and closes it: a fresh
// mapping each time.
func BenchmarkReopenCold(b *testing.B) {
	benchBlocks(b, func(b *testing.B, name string) {
		for b.Loop() {
			o, err := ndshm.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			o.Bytes()[0]++ // one page, cold
			o.Close()
		}
	})
}

// BenchmarkOpenCloseSyscalls is the floor of any open: open(2) and
// close(2) of the same file, nothing else.
func BenchmarkOpenCloseSyscalls(b *testing.B) {
	benchBlocks(b, func(b *testing.B, name string) {
		for b.Loop() {
			fd, err := sys.Open(name, true)
			if err != nil {
				b.Fatal(err)
			}
			sys.Close(fd)
		}
	})
}
