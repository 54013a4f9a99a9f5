package lock_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/lock"
)

// The workers below are goroutines so that the examples run alone; as
// worker processes that open the same block they would do the same.

// mustView makes an anonymous float64 block of the given shape.
func mustView(shape ...int) (*ndshm.Block, ndshm.Array[float64]) {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: shape})
	if err != nil {
		log.Fatal(err)
	}
	a, err := ndshm.View[float64](b)
	if err != nil {
		log.Fatal(err)
	}
	return b, a
}

// Concurrent reads need no lock: nobody writes.
func Example_reads() {
	b, a := mustView(1000)
	defer b.Close()
	flat, _ := a.Flat()
	for i := range flat {
		flat[i] = float64(i)
	}
	var wg sync.WaitGroup
	sums := make([]float64, 4)
	for w := range sums {
		wg.Go(func() {
			for _, v := range flat {
				sums[w] += v
			}
		})
	}
	wg.Wait()
	fmt.Println(sums)
	// Output: [499500 499500 499500 499500]
}

// Writes to disjoint rows need no lock: each worker owns its partition.
func Example_disjointRows() {
	b, a := mustView(8, 3)
	defer b.Close()
	const workers = 4
	per := a.Dim(0) / workers
	var wg sync.WaitGroup
	for w := range workers {
		part := a.Rows(w*per, (w+1)*per)
		wg.Go(func() {
			for i := range part.Dim(0) {
				for j := range part.Dim(1) {
					part.Set(float64(w), i, j)
				}
			}
		})
	}
	wg.Wait()
	fmt.Println(a.At(0, 0), a.At(3, 2), a.At(7, 1))
	// Output: 0 1 3
}

// Writes that overlap take a region lock: here every worker updates the
// running maximum of the same rows, a read-modify-write that is not a sum.
func ExampleTable_Lock() {
	b, a := mustView(4, 2)
	defer b.Close()
	tab, err := lock.New(b) // one Table serves every goroutine of a process
	if err != nil {
		log.Fatal(err)
	}
	defer tab.Close()
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for row := range a.Dim(0) {
				if err := tab.Lock(context.Background(), row); err != nil {
					log.Fatal(err)
				}
				for j := range a.Dim(1) {
					a.Set(max(a.At(row, j), float64(10*w+row+j)), row, j)
				}
				tab.Unlock(row)
			}
		})
	}
	wg.Wait()
	fmt.Println(a.At(0, 0), a.At(3, 1))
	// Output: 20 24
}

// Overlapping writes that are sums need no lock: add atomically.
func ExampleAddFloat64() {
	b, hist := mustView(4)
	defer b.Close()
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for i := range 100 {
				lock.AddFloat64(hist.Addr((w+i)%4), 0.5)
			}
		})
	}
	wg.Wait()
	flat, _ := hist.Flat()
	fmt.Println(flat)
	// Output: [37.5 37.5 37.5 37.5]
}
