package ndshm

import (
	"fmt"

	"github.com/ndshm/ndshm/internal/npy"
)

// maxRecord bounds a structured element so that sizes cannot overflow.
const maxRecord = 1 << 30

// fromDescr builds a DType from a .npy header's descriptor. Fields are
// packed in order, as NumPy lays out a descriptor list; padding shows up
// as fields with an empty name.
func fromDescr(d npy.Descr) (DType, error) {
	if d.Fields == nil {
		return ParseDType(d.Type)
	}
	if len(d.Fields) == 0 {
		return DType{}, fmt.Errorf("structured dtype with no fields: %w", ErrDType)
	}
	fields := make([]Field, len(d.Fields))
	off := 0
	for i, f := range d.Fields {
		ft, err := fromDescr(f.Descr)
		if err != nil {
			return DType{}, err
		}
		n, ok := product(f.Shape, ft.size)
		if !ok || off+n > maxRecord {
			return DType{}, fmt.Errorf("field %q too large: %w", f.Name, ErrDType)
		}
		fields[i] = Field{Name: f.Name, DType: ft, Shape: f.Shape, Offset: off}
		off += n
	}
	return DType{kind: 'V', order: '|', size: off, fields: fields}, nil
}

// descr is the inverse of fromDescr.
func (d DType) descr() npy.Descr {
	if d.fields == nil {
		return npy.Descr{Type: d.str}
	}
	fs := make([]npy.Field, len(d.fields))
	for i, f := range d.fields {
		fs[i] = npy.Field{Name: f.Name, Descr: f.DType.descr(), Shape: f.Shape}
	}
	return npy.Descr{Fields: fs}
}

// product multiplies dims and a unit size, reporting false for a
// negative dim or when the product of the non-zero dims passes maxSize:
// NumPy refuses such shapes even when a zero dim makes them empty, and
// strides are computed from them.
func product(dims []int, unit int) (int, bool) {
	n, nz := unit, unit
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		n *= d
		if d != 0 {
			if nz > maxSize/d {
				return 0, false
			}
			nz *= d
		}
	}
	return n, true
}
