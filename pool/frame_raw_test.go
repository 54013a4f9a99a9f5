package pool

import (
	"errors"
	"slices"
	"testing"

	"github.com/ndshm/ndshm"
)

// A raw attach frame carries the array's spec in the documented layout
// (Python's struct '<BBHIBBBBI', the shape as '<q's, the dtype, the
// name), and the decoder refuses every field outside the protocol's
// limits.
func TestAttachRawFrame(t *testing.T) {
	s := ndshm.Spec{DType: ndshm.Int16, Shape: []int{3, 0, 7}, Fortran: true}
	b, err := encodeAttachRaw(9, "psm_1", s)
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != 'B' || le.Uint16(b[2:]) != 5 || le.Uint32(b[4:]) != 9 || b[8] != 3 || b[9] != 3 || b[10] != 1 ||
		le.Uint64(b[16:]) != 3 || le.Uint64(b[32:]) != 7 || string(b[40:]) != "<i2psm_1" {
		t.Errorf("layout: % x", b)
	}
	id, name, out, err := decodeAttachRaw(b)
	if err != nil || id != 9 || name != "psm_1" || !out.DType.Equal(s.DType) || !slices.Equal(out.Shape, s.Shape) || !out.Fortran {
		t.Fatalf("round trip: %d %q %v %v", id, name, out, err)
	}
	forge := func(f func([]byte) []byte) []byte { return f(slices.Clone(b)) }
	for what, bad := range map[string][]byte{
		"id 0":          forge(func(x []byte) []byte { le.PutUint32(x[4:], 0); return x }),
		"33 dimensions": forge(func(x []byte) []byte { x[9] = 33; return x }),
		"empty dtype":   forge(func(x []byte) []byte { x[8] = 0; return x }),
		"17-byte dtype": forge(func(x []byte) []byte { x[8] = 17; return x }),
		"order 2":       forge(func(x []byte) []byte { x[10] = 2; return x }),
		"reserved":      forge(func(x []byte) []byte { x[13] = 1; return x }),
		"negative dim":  forge(func(x []byte) []byte { le.PutUint64(x[16:], 1<<63); return x }),
		"bad dtype":     forge(func(x []byte) []byte { copy(x[40:], "<x2"); return x }),
		"name too long": forge(func(x []byte) []byte { le.PutUint16(x[2:], 6); return x }),
		"cut short":     b[:len(b)-1],
		"version 2":     forge(func(x []byte) []byte { x[0] = 2; return x }),
		"only the head": b[:rawHead],
		"way too long":  append(slices.Clone(b), make([]byte, 600)...),
	} {
		if _, _, _, err := decodeAttachRaw(bad); !errors.Is(err, errFrame) {
			t.Errorf("%s: decoded (%v)", what, err)
		}
	}
	if _, err := encodeAttachRaw(1, "x", ndshm.Spec{DType: ndshm.Float64, Shape: make([]int, 33)}); err == nil {
		t.Error("encoded 33 dimensions")
	}
}

// FuzzAttachRaw: whatever the frame, decoding never panics, and what
// decodes encodes to a frame that decodes the same (dtypes are
// normalized: "<b1" comes back "|b1").
func FuzzAttachRaw(f *testing.F) {
	b, _ := encodeAttachRaw(1, "psm", ndshm.Spec{DType: ndshm.Float32, Shape: []int{4, 4}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		id, name, s, err := decodeAttachRaw(b)
		if err != nil {
			return
		}
		again, err := encodeAttachRaw(id, name, s)
		if err != nil {
			t.Fatalf("% x decodes to %d %q %v, which does not encode: %v", b, id, name, s, err)
		}
		id2, name2, s2, err := decodeAttachRaw(again)
		if err != nil || id2 != id || name2 != name || !s2.DType.Equal(s.DType) || !slices.Equal(s2.Shape, s.Shape) || s2.Fortran != s.Fortran {
			t.Errorf("% x decodes to %d %q %v, which encodes to % x, which decodes to %d %q %v (%v)", b, id, name, s, again, id2, name2, s2, err)
		}
	})
}
