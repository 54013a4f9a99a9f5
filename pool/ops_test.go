package pool_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/pool"
)

// Ops for the tests, registered in init so that worker processes (this
// test binary) have them too.
func init() {
	// stall sets elements to 7 (idempotent); stall-unsafe adds 1 (not).
	// Armed through a control block, the first task to see it writes
	// half its partition, publishes its pid and hangs, to be killed.
	pool.Register("test-stall", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		return stall(a, p, func(float64) float64 { return 7 })
	}, pool.Idempotent())
	pool.Register("test-stall-unsafe", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		return stall(a, p, func(x float64) float64 { return x + 1 })
	})
	pool.Register("test-sleep", func(a ndshm.Array[float64], p pool.Params) (pool.Stats, error) {
		time.Sleep(time.Duration(p[0] * float64(time.Second)))
		return pool.Stats{}, nil
	})
	pool.Register("test-gomaxprocs", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{Count: 1, Sum: float64(runtime.GOMAXPROCS(0))}, nil
	}, pool.ReadOnly())
	pool.Register("test-panic", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		var m map[string]int
		m["x"] = 1 // a nil map: a real runtime panic
		return pool.Stats{}, nil
	})
	pool.Register("test-fail", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{}, errors.New("the op says no")
	})
	pool.Register("test-positive", func(a ndshm.Array[float64], _ pool.Params) (pool.Stats, error) {
		return pool.Stats{}, nil
	}, pool.Validate(func(p pool.Params) error {
		if len(p) != 1 || p[0] <= 0 {
			return errors.New("test-positive takes one positive parameter")
		}
		return nil
	}))
	pool.Register("test-negate", negate[float64])
	pool.Register("test-negate", negate[int32])
}

// negate works element by element through At and Set, as an op written
// without regard for memory order does, on any number of dimensions.
func negate[T int32 | float64](a ndshm.Array[T], _ pool.Params) (pool.Stats, error) {
	forEachIndex(a.Shape(), func(idx []int) { a.Set(-a.At(idx...), idx...) })
	return pool.Stats{Count: int64(a.Len())}, nil
}

// forEachIndex calls f with every index of an array of the given shape,
// last axis fastest.
func forEachIndex(shape []int, f func(idx []int)) {
	for _, d := range shape {
		if d == 0 {
			return
		}
	}
	idx := make([]int, len(shape))
	for {
		f(idx)
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func stall(a ndshm.Array[float64], p pool.Params, f func(float64) float64) (pool.Stats, error) {
	ctl, err := ndshm.Open(fmt.Sprintf("ndshm-test-%d-%d", os.Getppid(), int(p[0])))
	if err != nil {
		return pool.Stats{}, err
	}
	defer ctl.Close()
	c, err := ndshm.View[int64](ctl)
	if err != nil {
		return pool.Stats{}, err
	}
	armed := atomic.CompareAndSwapInt64(c.Addr(0), 1, 0)
	n := a.Dim(0)
	if armed {
		n /= 2
	}
	for i := range n {
		a.Set(f(a.At(i)), i)
	}
	if armed {
		atomic.StoreInt64(c.Addr(1), int64(os.Getpid()))
		time.Sleep(time.Minute)
	}
	return pool.Stats{Count: int64(n)}, nil
}
