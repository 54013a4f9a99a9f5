package pool_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/ndshm/ndshm"
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
