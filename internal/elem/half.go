package elem

import "math"

// Go has no float16, and the library views NumPy's float16 as its uint16
// bits; these convert IEEE 754 binary16 bits to and from float64 so that
// the pool's reductions (and so stats) and --fill handle float16 like
// the other floats.

// HalfToFloat returns the value of the binary16 bits h, exactly.
func HalfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant × 2⁻²⁴
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

// HalfFromFloat rounds f to the nearest binary16, ties to even, as
// NumPy's float64-to-float16 cast does; too large becomes ±Inf.
func HalfFromFloat(f float64) uint16 {
	b := math.Float64bits(f)
	sign := uint16(b>>48) & 0x8000
	exp, mant := int(b>>52&0x7ff), b&(1<<52-1)
	if exp == 0x7ff {
		if mant != 0 {
			return sign | 0x7e00 // a quiet NaN
		}
		return sign | 0x7c00
	}
	e := exp - 1023 + 15 // binary16's biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	// The value is m × 2^(exp-1075), m with its implicit bit. Shift it to
	// units of binary16's last place: 2⁻¹⁰ of the exponent for a normal
	// result, 2⁻²⁴ for a subnormal one. A carry out of the mantissa bumps
	// the exponent, up to Inf, which is right.
	m, shift, base := mant|1<<52, uint(42), uint64(e-1)<<10
	if e <= 0 {
		shift, base = uint(43-e), 0
		if shift > 54 {
			return sign // below half the smallest subnormal
		}
	}
	h, rest, half := m>>shift, m&(1<<shift-1), uint64(1)<<(shift-1)
	if rest > half || rest == half && h&1 == 1 {
		h++
	}
	return sign | uint16(base+h)
}
