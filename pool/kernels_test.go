package pool_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/pool"
)

type elem interface {
	float64 | float32 | int32 | uint8 | int64
}

// layouts are the arrays every op is checked on: empty ones, a 0-d one,
// more workers than rows, uneven splits, and C and Fortran order.
var layouts = func() []ndshm.Spec {
	var out []ndshm.Spec
	for _, shape := range [][]int{{}, {0}, {1}, {7}, {1000}, {5, 3}, {4, 0}, {0, 3}, {3, 4, 5}, {2, 1, 3}, {9, 2}} {
		out = append(out, ndshm.Spec{Shape: shape})
		if len(shape) >= 2 {
			out = append(out, ndshm.Spec{Shape: shape, Fortran: true})
		}
	}
	return out
}()

// testPools are the pools every check runs on. The process pools stay
// open for the whole test.
func testPools(t *testing.T) []*pool.Pool {
	return []*pool.Pool{
		pool.Serial(),
		pool.Goroutines(3),
		newProcs(t, 1),
		newProcs(t, 3),
		newProcs(t, 2, pool.ChunkRows(2)), // more partitions than workers
	}
}

func poolName(p *pool.Pool) string { return fmt.Sprintf("%s-%d", p.Mode(), p.Workers()) }

// gen is the k'th element (in logical order) of every test array: small
// values, exact in every dtype, some negative for the signed ones.
func gen[T elem](k int) T {
	v := float64(k*37%101) - 30.25
	var zero T
	if _, ok := any(zero).(float64); !ok {
		if _, ok := any(zero).(float32); !ok {
			v = float64(k * 37 % 101) // integers 0..100, fit in uint8
		}
	}
	return T(v)
}

// fillArray makes a block holding gen in logical order and returns the
// values in that order.
func fillArray[T elem](t *testing.T, s ndshm.Spec, anon bool) (*ndshm.Block, []T) {
	t.Helper()
	b := newBlock(t, s, anon)
	a, err := ndshm.View[T](b)
	if err != nil {
		t.Fatal(err)
	}
	var vals []T
	forEachIndex(a.Shape(), func(idx []int) {
		v := gen[T](len(vals))
		a.Set(v, idx...)
		vals = append(vals, v)
	})
	return b, vals
}

// contents returns the block's elements in logical order.
func contents[T elem](t *testing.T, b *ndshm.Block) []T {
	a, err := ndshm.View[T](b)
	if err != nil {
		t.Fatal(err)
	}
	var out []T
	forEachIndex(a.Shape(), func(idx []int) { out = append(out, a.At(idx...)) })
	return out
}

// refMap is what each map op does to one element, written out naively.
func refMap[T elem](op string, x T) T {
	switch op {
	case "sqrt":
		return T(math.Sqrt(float64(x)))
	case "square":
		return x * x
	case "scale=3":
		return x * 3
	case "offset=7":
		return x + 7
	case "affine=3,5":
		return T(x*3) + 5
	case "clip=10,50":
		if x < 10 {
			return 10
		} else if x > 50 {
			return 50
		}
		return x
	case "fill=4":
		return 4
	case "test-negate":
		return -x
	}
	panic(op)
}

func same[T elem](a, b T) bool { return a == b || a != a && b != b } // NaN equals NaN here

func checkMaps[T elem](t *testing.T, p *pool.Pool, dt ndshm.DType, ops ...string) {
	ctx := context.Background()
	for i, s := range layouts {
		s.DType = dt
		for _, op := range ops {
			b, vals := fillArray[T](t, s, i%2 == 1)
			if err := p.Map(ctx, b, op); err != nil {
				t.Fatalf("%v %s: %v", s, op, err)
			}
			for k, got := range contents[T](t, b) {
				if want := refMap(op, vals[k]); !same(got, want) {
					t.Fatalf("%v %s: element %d is %v, want %v (was %v)", s, op, k, got, want, vals[k])
				}
			}
			b.Close()
		}
	}
}

var intOps = []string{"square", "scale=3", "offset=7", "affine=3,5", "clip=10,50", "fill=4"}
var floatOps = append([]string{"sqrt"}, intOps...)

func TestMapMatchesReference(t *testing.T) {
	for _, p := range testPools(t) {
		t.Run(poolName(p), func(t *testing.T) {
			checkMaps[float64](t, p, ndshm.Float64, append(floatOps, "test-negate")...)
			checkMaps[float32](t, p, ndshm.Float32, floatOps...)
			checkMaps[int32](t, p, ndshm.Int32, append(intOps, "test-negate")...)
			checkMaps[int64](t, p, ndshm.Int64, intOps...)
			checkMaps[uint8](t, p, ndshm.Uint8, intOps...) // wraps, as NumPy's uint8 does
		})
	}
}

func checkMapTo[T elem](t *testing.T, p *pool.Pool, dt ndshm.DType, op string) {
	for i, s := range layouts {
		s.DType = dt
		src, vals := fillArray[T](t, s, i%2 == 0)
		dst := newBlock(t, s, i%3 == 0)
		if err := p.MapTo(context.Background(), src, dst, op); err != nil {
			t.Fatalf("%v %s: %v", s, op, err)
		}
		for k, got := range contents[T](t, dst) {
			if want := refMap(op, vals[k]); !same(got, want) {
				t.Fatalf("%v %s: element %d is %v, want %v", s, op, k, got, want)
			}
		}
		for k, got := range contents[T](t, src) {
			if got != vals[k] && got == got {
				t.Fatalf("%v %s: source element %d changed to %v", s, op, k, got)
			}
		}
	}
}

func TestMapToMatchesReference(t *testing.T) {
	for _, p := range testPools(t)[1:4] {
		t.Run(poolName(p), func(t *testing.T) {
			checkMapTo[float64](t, p, ndshm.Float64, "affine=3,5")
			checkMapTo[float64](t, p, ndshm.Float64, "test-negate") // a registered op: copy, then run
			checkMapTo[float32](t, p, ndshm.Float32, "sqrt")
			checkMapTo[int32](t, p, ndshm.Int32, "clip=10,50")
		})
	}
}

func TestMapToChecksDestination(t *testing.T) {
	p := pool.Goroutines(2)
	src, _ := fillArray[float64](t, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4, 3}}, false)
	for _, s := range []ndshm.Spec{
		{DType: ndshm.Float64, Shape: []int{3, 4}},
		{DType: ndshm.Float32, Shape: []int{4, 3}},
		{DType: ndshm.Float64, Shape: []int{4, 3}, Fortran: true},
	} {
		if err := p.MapTo(context.Background(), src, newBlock(t, s, true), "sqrt"); err == nil {
			t.Errorf("MapTo into %v succeeded", s)
		}
	}
	if err := p.MapTo(context.Background(), src, src, "sqrt"); err == nil {
		t.Error("MapTo into its own source succeeded")
	}
}

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

// Bool and float16 arrays reduce through float64 with the same kernels
// as the other dtypes, in every kind of pool; maps refuse them.
func TestReduceBoolHalf(t *testing.T) {
	const nan, inf = 0x7e00, 0x7c00
	pools := testPools(t)
	for _, tc := range []struct {
		dt            ndshm.DType
		shape         []int
		fortran       bool
		bits          []uint16 // the elements, in memory order
		count         int64
		sum, min, max float64
		hist          []uint64 // histogram=4,-2,2
	}{
		{ndshm.Bool, []int{3, 2}, false, []uint16{1, 0, 0, 1, 1, 1}, 6, 4, 0, 1, []uint64{0, 0, 2, 4}},
		{ndshm.Bool, []int{3, 2}, true, []uint16{0, 0, 0, 0, 0, 0}, 6, 0, 0, 0, []uint64{0, 0, 6, 0}},
		// 1, -2, 0.5, -0, 2⁻²⁴ (the least subnormal), 65504 (the greatest)
		{ndshm.Float16, []int{2, 3}, true, []uint16{0x3c00, 0xc000, 0x3800, 0x8000, 0x0001, 0x7bff}, 6,
			65504 - 0.5 + 0x1p-24, -2, 65504, []uint64{1, 0, 3, 1}},
		{ndshm.Float16, []int{4}, false, []uint16{0x3c00, nan, 0xc000, 0}, 4, math.NaN(), math.NaN(), math.NaN(), []uint64{1, 0, 1, 1}},
		{ndshm.Float16, []int{3}, false, []uint16{0x3c00, inf, 0xfc00}, 3, math.NaN(), math.Inf(-1), math.Inf(1), []uint64{0, 0, 0, 1}},
		{ndshm.Float16, []int{0, 2}, false, nil, 0, 0, math.NaN(), math.NaN(), []uint64{0, 0, 0, 0}},
	} {
		b := newBlock(t, ndshm.Spec{DType: tc.dt, Shape: tc.shape, Fortran: tc.fortran}, false)
		for i, x := range tc.bits {
			if tc.dt.Size() == 1 {
				b.Bytes()[i] = byte(x)
			} else {
				binary.LittleEndian.PutUint16(b.Bytes()[2*i:], x)
			}
		}
		want := pool.Stats{Count: tc.count, Sum: tc.sum, Min: tc.min, Max: tc.max}
		for _, p := range pools {
			for _, op := range []string{"sum", "min", "max", "mean", "count", "histogram=4,-2,2"} {
				got, err := p.Reduce(context.Background(), b, op)
				ok := err == nil && got.Count == want.Count
				switch op {
				case "histogram=4,-2,2":
					ok = ok && slices.Equal(got.Hist, tc.hist)
				case "count":
				default:
					ok = ok && sameFloat(got.Sum, want.Sum) && sameFloat(got.Min, want.Min) && sameFloat(got.Max, want.Max)
				}
				if !ok {
					t.Errorf("%s: %s of %s%v %x: %+v, %v; want %+v, histogram %v", poolName(p), op, tc.dt, tc.shape, tc.bits, got, err, want, tc.hist)
				}
			}
			if err := p.Map(context.Background(), b, "scale=2"); !errors.Is(err, ndshm.ErrDType) {
				t.Errorf("%s: scale=2 of %s: %v, want ndshm.ErrDType", poolName(p), tc.dt, err)
			}
		}
	}
}

// A bool array must hold only 0 and 1, as ndshm.View[bool] requires: a
// reduction refuses anything else rather than count it as true.
func TestReduceRefusesBadBool(t *testing.T) {
	b := newBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{5}}, false)
	copy(b.Bytes(), []byte{1, 0, 1, 2, 1})
	for _, p := range testPools(t) {
		// From a worker process the error comes back as text.
		if s, err := p.Reduce(context.Background(), b, "sum"); err == nil || !strings.Contains(err.Error(), "bool array holds the byte 2") {
			t.Errorf("%s: sum of a bool array holding 2: %+v, %v", poolName(p), s, err)
		}
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

// rawBlock makes a headerless file in /dev/shm holding float64 i at
// flat index i, as Python's SharedMemory would, and opens it raw as s.
func rawBlock(t *testing.T, s ndshm.Spec) *ndshm.Block {
	t.Helper()
	name := shmtest.Name()
	data := make([]byte, s.Size()+100) // SharedMemory rounds sizes up
	for i := range s.Size() / 8 {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(float64(i)))
	}
	if err := os.WriteFile("/dev/shm/"+name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove("/dev/shm/" + name) })
	b, err := ndshm.OpenRaw(name, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Worker processes work on raw blocks: the attach frame tells them the
// array, C or Fortran order, in place and out of place.
// Go, Python and mixed workers alike.
func TestRawBlockProcesses(t *testing.T) {
	pools := pythonPools(t)
	pools["go-2"] = newProcs(t, 2)
	for name, p := range pools {
		t.Run(name, func(t *testing.T) { checkRaw(t, p) })
	}
}

func checkRaw(t *testing.T, p *pool.Pool) {
	ctx := context.Background()
	for _, fortran := range []bool{false, true} {
		s := ndshm.Spec{DType: ndshm.Float64, Shape: []int{6, 5}, Fortran: fortran}
		b := rawBlock(t, s)
		st, err := p.Reduce(ctx, b, "sum")
		if err != nil || st.Sum != 435 || st.Count != 30 || st.Max != 29 {
			t.Fatalf("Reduce sum of a raw block (Fortran %v): %+v, %v", fortran, st, err)
		}
		dst := newBlock(t, s, false)
		if err := p.MapTo(ctx, b, dst, "affine=2,1"); err != nil {
			t.Fatal(err)
		}
		if err := p.Map(ctx, b, "scale=3"); err != nil {
			t.Fatal(err)
		}
		src, _ := ndshm.View[float64](b)
		out, _ := ndshm.View[float64](dst)
		xs, _ := src.Flat()
		ys, _ := out.Flat()
		for i := range xs {
			if xs[i] != 3*float64(i) || ys[i] != 2*float64(i)+1 {
				t.Fatalf("Fortran %v: element %d is %v in place and %v out of place", fortran, i, xs[i], ys[i])
			}
		}
		p.Release(b)
		p.Release(dst)
	}
}
