package pool_test

import (
	"context"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// refStats computes a reduction's answer naively, in logical order.
// The test values are multiples of 1/4 with small sums: every order of
// summation gives the same float64.
func refStats[T elem](vals []T, bins int, lo, hi float64) pool.Stats {
	s := pool.Stats{Count: int64(len(vals)), Min: math.NaN(), Max: math.NaN(), Hist: make([]uint64, bins)}
	for i, v := range vals {
		x := float64(v)
		s.Sum += x
		if i == 0 || x < s.Min {
			s.Min = x
		}
		if i == 0 || x > s.Max {
			s.Max = x
		}
		// numpy.histogram's definition: edges linspace(lo, hi, bins+1),
		// each bin half-open but the last, which is closed.
		for b := range bins {
			left, right := float64(b)*(hi-lo)/float64(bins)+lo, float64(b+1)*(hi-lo)/float64(bins)+lo
			if b == bins-1 {
				right = hi
			}
			if x >= left && (x < right || b == bins-1 && x == hi) {
				s.Hist[b]++
				break
			}
		}
	}
	return s
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

func checkReduce[T elem](t *testing.T, p *pool.Pool, dt ndshm.DType, lo, hi float64) {
	ctx := context.Background()
	for i, s := range layouts {
		s.DType = dt
		b, vals := fillArray[T](t, s, i%2 == 1)
		want := refStats(vals, 10, lo, hi)
		for _, op := range []string{"sum", "min", "max", "mean", "count"} {
			got, err := p.Reduce(ctx, b, op)
			if err != nil {
				t.Fatalf("%v %s: %v", s, op, err)
			}
			if got.Count != want.Count || op != "count" && (got.Sum != want.Sum || !sameFloat(got.Mean(), want.Mean()) ||
				!sameFloat(got.Min, want.Min) || !sameFloat(got.Max, want.Max)) {
				t.Fatalf("%v %s: got %+v, want %+v", s, op, got, want)
			}
		}
		op := "histogram=10," + pool.Params{lo, hi}.String()
		got, err := p.Reduce(ctx, b, op)
		if err != nil {
			t.Fatalf("%v %s: %v", s, op, err)
		}
		if got.Count != want.Count || !slices.Equal(got.Hist, want.Hist) {
			t.Fatalf("%v %s: got %v of %d, want %v of %d", s, op, got.Hist, got.Count, want.Hist, want.Count)
		}
		b.Close()
	}
}

func TestReduceMatchesReference(t *testing.T) {
	for _, p := range testPools(t) {
		t.Run(poolName(p), func(t *testing.T) {
			checkReduce[float64](t, p, ndshm.Float64, -5, 5)
			checkReduce[float32](t, p, ndshm.Float32, -20, 60)
			checkReduce[int32](t, p, ndshm.Int32, 0, 100)
			checkReduce[uint8](t, p, ndshm.Uint8, 10, 30)
		})
	}
}

// As in NumPy, one NaN makes the sum, min and max NaN; histograms skip it.
func TestReduceNaN(t *testing.T) {
	for _, p := range []*pool.Pool{pool.Serial(), newProcs(t, 2)} {
		b := newBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{6}}, false)
		a, _ := ndshm.View[float64](b)
		xs, _ := a.Flat()
		copy(xs, []float64{1, 2, 3, math.NaN(), 5, 6})
		for _, op := range []string{"sum", "min", "max"} {
			s, err := p.Reduce(context.Background(), b, op)
			if err != nil || !math.IsNaN(s.Sum) || !math.IsNaN(s.Min) || !math.IsNaN(s.Max) || s.Count != 6 {
				t.Errorf("%s %s: %+v, %v", poolName(p), op, s, err)
			}
		}
		s, err := p.Reduce(context.Background(), b, "histogram=2,0,10")
		if err != nil || !slices.Equal(s.Hist, []uint64{3, 2}) {
			t.Errorf("%s histogram: %+v, %v", poolName(p), s, err)
		}
	}
}

// Reduce runs a registered read-only op in every worker: each process
// got GOMAXPROCS max(1, NumCPU/n).
func TestWorkerGOMAXPROCS(t *testing.T) {
	p := newProcs(t, 2)
	b := newBlock(t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{2}}, true)
	s, err := p.Reduce(context.Background(), b, "test-gomaxprocs")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * float64(max(1, runtime.NumCPU()/2)); s.Sum != want || s.Count != 2 {
		t.Errorf("GOMAXPROCS summed over 2 workers = %v, want %v", s.Sum, want)
	}
}
