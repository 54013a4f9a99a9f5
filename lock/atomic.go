package lock

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// AddInt64 atomically adds d to *p and returns the new value: a
// lock-free sum that any number of goroutines and processes may apply to
// one element at once, such as a histogram count from
// ndshm.Array[int64].Addr.
//
// p must be 8-byte aligned, or AddInt64 panics: an atomic that straddles
// a cache line is hundreds of times slower and may trap. Every int64
// element of a block is aligned (the data starts on a page and elements
// are naturally aligned); only a field of a packed record may not be.
func AddInt64(p *int64, d int64) int64 {
	checkAligned(unsafe.Pointer(p))
	return atomic.AddInt64(p, d)
}

// AddFloat64 atomically adds d to *p and returns the new value, as
// AddInt64 does for integers, with the same alignment rule. It is a
// compare-and-swap loop on the value's bits, so it retries while other
// writers change *p; NaNs and signed zeros are handled bit for bit.
//
// The order in which concurrent additions land is not fixed, so a float
// sum may differ in its last bits from run to run, as any parallel float
// sum does; sums of integers below 2^53 are exact.
func AddFloat64(p *float64, d float64) float64 {
	checkAligned(unsafe.Pointer(p))
	bits := (*uint64)(unsafe.Pointer(p))
	for {
		old := atomic.LoadUint64(bits)
		sum := math.Float64frombits(old) + d
		if atomic.CompareAndSwapUint64(bits, old, math.Float64bits(sum)) {
			return sum
		}
	}
}

func checkAligned(p unsafe.Pointer) {
	if uintptr(p)%8 != 0 {
		panic("lock: atomic add on a misaligned 8-byte word")
	}
}
