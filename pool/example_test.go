package pool_test

import (
	"context"
	"fmt"
	"log"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// relu is an op written in Go. It is registered in an init function, so
// that worker processes, which run this same binary, have it too.
func init() {
	pool.Register("relu", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		if xs, ok := a.Flat(); ok { // a C-order partition is contiguous
			for i, x := range xs {
				xs[i] = max(x, 0)
			}
		} else { // a Fortran-order partition is strided: index it
			for i := range a.Dim(0) {
				for j := range a.Dim(1) {
					a.Set(max(a.At(i, j), 0), i, j)
				}
			}
		}
		return pool.Stats{Count: int64(a.Len())}, nil
	}, pool.Idempotent())
}

func ExampleNew() {
	// Workers are this program run again: its main calls pool.WorkerMain
	// first thing (a test binary, in TestMain).
	p, err := pool.New(2)
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{6}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[float64](b)
	xs, _ := a.Flat()
	copy(xs, []float64{1, 4, 9, 16, 25, 36})

	// Each worker transforms its half in place; nothing is copied.
	ctx := context.Background()
	if err := p.Map(ctx, b, "sqrt"); err != nil {
		log.Fatal(err)
	}
	if err := p.Map(ctx, b, "affine=2,1"); err != nil {
		log.Fatal(err)
	}
	s, err := p.Reduce(ctx, b, "mean")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(xs, s.Count, s.Sum, s.Mean(), s.Min, s.Max)
	// Output: [3 5 7 9 11 13] 6 48 8 3 13
}

func ExampleRegister() {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Float64, Shape: []int{2, 3}, Fortran: true})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	a, _ := ndshm.View[float64](b)
	for i, x := range []float64{-1, 2, -3, 4, -5, 6} {
		a.Set(x, i/3, i%3)
	}
	p := pool.Goroutines(2) // or pool.New(2): the same op runs in worker processes
	if err := p.Map(context.Background(), b, "relu"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.At(0, 0), a.At(0, 1), a.At(0, 2), a.At(1, 0), a.At(1, 1), a.At(1, 2))
	// Output: 0 2 0 4 0 6
}

func ExampleGoroutines() {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Int32, Shape: []int{1000}})
	if err != nil {
		log.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	// The same calls in one process, in parallel or not: compare them with
	// a process pool to see what the process boundary costs.
	for _, p := range []*pool.Pool{pool.Goroutines(4), pool.Serial()} {
		if err := p.Map(ctx, b, "offset=1"); err != nil {
			log.Fatal(err)
		}
		h, err := p.Reduce(ctx, b, "histogram=4,0,4")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.Mode(), p.Workers(), h.Hist)
	}
	// Output:
	// goroutine 4 [0 1000 0 0]
	// serial 1 [0 0 1000 0]
}
