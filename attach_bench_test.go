package ndshm_test

import (
	"fmt"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// BenchmarkAttach opens a block by name, views it and closes it. It must
// not grow with the array's size (compare the sizes' ns/op). This process
// made the block and holds it open, so the open reuses its mapping (a
// warm open); BenchmarkReopenCold measures a fresh mapping.
func BenchmarkAttach(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20, 100 << 20, 1 << 30} {
		name := shmtest.Name()
		blk, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{size / 8}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				o, err := ndshm.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				a, err := ndshm.View[float64](o)
				if err != nil || a.Len() != size/8 {
					b.Fatal(err)
				}
				o.Close()
			}
		})
		blk.Close()
	}
}
