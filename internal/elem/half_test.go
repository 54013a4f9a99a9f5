package elem

import (
	"math"
	"testing"
)

func TestHalf(t *testing.T) {
	for _, tc := range []struct {
		f float64
		h uint16
	}{
		{0, 0}, {math.Copysign(0, -1), 0x8000}, {1, 0x3c00}, {-2, 0xc000}, {0.1, 0x2e66},
		{65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00}, {1e10, 0x7c00}, {math.Inf(-1), 0xfc00},
		{math.Ldexp(1, -24), 0x0001}, {math.Ldexp(1, -25), 0},
		{math.Ldexp(1.5, -25), 0x0001}, {math.Ldexp(3, -25), 0x0002}, // ties to even
		{math.Ldexp(1, -14), 0x0400}, {math.Ldexp(1023, -24), 0x03ff},
		{1 + math.Ldexp(1, -11), 0x3c00}, {1 + math.Ldexp(3, -11), 0x3c02}, // ties to even
		{math.SmallestNonzeroFloat64, 0},
	} {
		if got := HalfFromFloat(tc.f); got != tc.h {
			t.Errorf("HalfFromFloat(%v) = %#04x, want %#04x", tc.f, got, tc.h)
		}
	}
	if h := HalfFromFloat(math.NaN()); !math.IsNaN(HalfToFloat(h)) {
		t.Errorf("NaN became %#04x", h)
	}
	// Every finite binary16 converts exactly and back.
	for h := range 1 << 16 {
		f := HalfToFloat(uint16(h))
		if h>>10&0x1f == 0x1f && h&0x3ff != 0 {
			if !math.IsNaN(f) {
				t.Errorf("HalfToFloat(%#04x) = %v, want NaN", h, f)
			}
			continue
		}
		if back := HalfFromFloat(f); back != uint16(h) {
			t.Errorf("HalfFromFloat(HalfToFloat(%#04x) = %v) = %#04x", h, f, back)
		}
	}
}
