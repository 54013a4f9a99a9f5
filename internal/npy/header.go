package npy

import "strconv"

// Header is the content of a .npy header: the array's type, memory order
// and shape.
type Header struct {
	Descr   Descr
	Fortran bool // data is in column-major (Fortran) order
	Shape   []int
}

// Descr is a NumPy array-interface type descriptor: a simple type string
// such as "<f8" or "|b1" or "<M8[ns]", or a structured list of fields.
type Descr struct {
	Type   string  // simple descriptor; "" when Fields != nil
	Fields []Field // structured dtype; nil for a simple one
}

// Field is one field of a structured Descr.
type Field struct {
	Name  string
	Descr Descr
	Shape []int // sub-array shape; nil for a scalar field
}

// Literal returns the descriptor as a Python literal, as NumPy writes it in
// a header: '<f8' (with quotes) or [('x', '<f8'), ('y', '<i4', (3,))].
func (d Descr) Literal() string {
	return string(d.appendLiteral(nil))
}

// String returns Type for a simple descriptor and Literal() for a
// structured one.
func (d Descr) String() string {
	if d.Fields == nil {
		return d.Type
	}
	return d.Literal()
}

func (d Descr) appendLiteral(b []byte) []byte {
	if d.Fields == nil {
		return appendQuoted(b, d.Type)
	}
	b = append(b, '[')
	for i, f := range d.Fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		b = appendQuoted(b, f.Name)
		b = append(b, ", "...)
		b = f.Descr.appendLiteral(b)
		// NumPy writes a scalar field as a 2-tuple, never with shape ().
		if len(f.Shape) > 0 {
			b = append(b, ", "...)
			b = appendTuple(b, f.Shape)
		}
		b = append(b, ')')
	}
	return append(b, ']')
}

// appendTuple appends dims as Python's repr of a tuple of ints, where a
// 1-tuple needs its trailing comma to be a tuple at all.
func appendTuple(b []byte, dims []int) []byte {
	b = append(b, '(')
	for i, n := range dims {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	if len(dims) == 1 {
		b = append(b, ',')
	}
	return append(b, ')')
}
