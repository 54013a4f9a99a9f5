package ndshm

import (
	"slices"
	"strings"
)

// String returns NumPy's descriptor: "<f8" for a simple dtype, the
// Python literal of the field list for a structured one.
func (d DType) String() string {
	if d.fields != nil {
		return d.descr().Literal()
	}
	return d.str
}

// Size returns the number of bytes per element.
func (d DType) Size() int { return d.size }

// Kind returns NumPy's kind character: 'b' bool, 'i' signed, 'u'
// unsigned, 'f' float, 'c' complex, 'M' datetime, 'm' timedelta,
// 'S' bytes, 'V' void or structured.
func (d DType) Kind() byte { return d.kind }

// Native reports whether Go on this machine (little-endian) can read the
// elements as they are. Big-endian data is never silently misread: typed
// views refuse it.
func (d DType) Native() bool {
	if d.fields != nil {
		for _, f := range d.fields {
			if !f.DType.Native() {
				return false
			}
		}
		return true
	}
	return d.order != '>'
}

// Fields returns the members of a structured dtype, nil for a simple one.
// The slice and the fields' shapes are the caller's.
func (d DType) Fields() []Field {
	fs := slices.Clone(d.fields)
	for i := range fs {
		fs[i].Shape = slices.Clone(fs[i].Shape)
	}
	return fs
}

// Equal reports whether d and e describe the same element layout.
func (d DType) Equal(e DType) bool {
	if d.str != e.str || d.size != e.size || len(d.fields) != len(e.fields) {
		return false
	}
	for i, f := range d.fields {
		g := e.fields[i]
		if f.Name != g.Name || f.Offset != g.Offset || !slices.Equal(f.Shape, g.Shape) || !f.DType.Equal(g.DType) {
			return false
		}
	}
	return true
}

// IsZero reports whether d is the zero DType, which describes nothing.
func (d DType) IsZero() bool { return d.size == 0 && d.fields == nil }

// numeric reports whether elements convert to float64 for statistics.
func (d DType) numeric() bool { return d.fields == nil && strings.IndexByte("biuf", d.kind) >= 0 }
