package flight

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/npy"
)

// Schema metadata keys (docs/FLIGHT.md). The .npy header alone is
// authoritative: the others repeat it for readers that do not parse it.
const (
	MetaHeader = "ndshm.npy_header" // the array's .npy header, byte for byte
	MetaDType  = "ndshm.dtype"      // NumPy's descriptor
	MetaShape  = "ndshm.shape"      // the array's shape, JSON
	MetaOrder  = "ndshm.order"      // "C" or "F"
	MetaSize   = "ndshm.size_bytes" // data bytes, decimal
	MetaLayout = "ndshm.layout"     // "rows" or "flat"
)

// Column is the name of the one column of every ndshm stream.
const Column = "data"

// A layout is how a block's bytes become one Arrow column: unit bytes
// per row, rows in all. Whole rows go in each batch.
type layout struct {
	spec   ndshm.Spec
	header []byte
	typ    arrow.DataType // the column's type
	leaf   arrow.DataType // its fixed-width leaf, whose buffer holds the bytes
	per    int            // leaf values per row
	unit   int            // bytes per row
	rows   int
	flat   bool // one row per element: the rows would exceed a batch
	sch    *arrow.Schema
}

// newLayout plans the column for spec, whose rows must fit in chunk
// bytes to be sent as tensors.
func newLayout(s ndshm.Spec, chunk int) (*layout, error) {
	item := s.DType.Size()
	if item == 0 {
		return nil, fmt.Errorf("%w: elements of 0 bytes (%s)", errors.ErrUnsupported, s.DType)
	}
	if item > chunk {
		return nil, fmt.Errorf("%w: %d-byte elements exceed the %d-byte batch", errors.ErrUnsupported, item, chunk)
	}
	hdr, err := header(s)
	if err != nil {
		return nil, err
	}
	l := &layout{spec: s, header: hdr}
	shape := logicalShape(s)
	n := s.Len()
	if len(shape) <= 1 {
		l.leaf, l.typ = elemType(s.DType, true), elemType(s.DType, true)
		if e, ok := l.typ.(arrow.ExtensionType); ok {
			l.leaf = e.StorageType()
		}
		l.per, l.unit, l.rows = 1, item, n
		return l, nil
	}
	per := 1
	for _, d := range shape[1:] {
		per *= d
	}
	if per == 0 || per*item > chunk {
		l.leaf = elemType(s.DType, false)
		l.typ, l.per, l.unit, l.rows, l.flat = l.leaf, 1, item, n, true
		return l, nil
	}
	l.leaf = elemType(s.DType, false)
	l.typ = NewTensorType(l.leaf, shape[1:])
	l.per, l.unit, l.rows = per, per*item, shape[0]
	return l, nil
}

// logicalShape is the shape of the C-order array whose bytes are s's:
// a Fortran-order array travels as its transpose.
func logicalShape(s ndshm.Spec) []int {
	shape := slices.Clone(s.Shape)
	if s.Fortran {
		slices.Reverse(shape)
	}
	return shape
}

// elemType maps a NumPy dtype to the Arrow type of the same bytes:
// native integers and floats to themselves, bool to arrow.bool8 (uint8
// where it is a tensor's element, top false), and everything Arrow cannot
// say (complex, datetime, bytes, structured, big-endian) to
// fixed_size_binary of the element size.
func elemType(d ndshm.DType, top bool) arrow.DataType {
	if d.Native() && d.Fields() == nil {
		switch k, n := d.Kind(), d.Size(); {
		case k == 'b' && n == 1 && top:
			return extensions.NewBool8Type()
		case k == 'b' && n == 1:
			return arrow.PrimitiveTypes.Uint8
		case k == 'i' || k == 'u':
			if t := intType(k == 'i', n); t != nil {
				return t
			}
		case k == 'f' && n == 2:
			return arrow.FixedWidthTypes.Float16
		case k == 'f' && n == 4:
			return arrow.PrimitiveTypes.Float32
		case k == 'f' && n == 8:
			return arrow.PrimitiveTypes.Float64
		}
	}
	return &arrow.FixedSizeBinaryType{ByteWidth: d.Size()}
}

func intType(signed bool, n int) arrow.DataType {
	types := map[int][2]arrow.DataType{
		1: {arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Int8},
		2: {arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Int16},
		4: {arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Int32},
		8: {arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Int64},
	}
	t, ok := types[n]
	if !ok {
		return nil
	}
	if signed {
		return t[1]
	}
	return t[0]
}

// schema returns the stream's Arrow schema, made once.
func (l *layout) schema() *arrow.Schema {
	if l.sch == nil {
		l.sch = l.makeSchema()
	}
	return l.sch
}

// makeSchema is the stream's Arrow schema: one non-nullable column and the
// metadata that lets a receiver make the block before data arrives.
func (l *layout) makeSchema() *arrow.Schema {
	order := "C"
	if l.spec.Fortran {
		order = "F"
	}
	shape, _ := json.Marshal(append([]int{}, l.spec.Shape...))
	kind := "rows"
	if l.flat {
		kind = "flat"
	}
	md := arrow.NewMetadata(
		[]string{MetaHeader, MetaDType, MetaShape, MetaOrder, MetaSize, MetaLayout},
		[]string{string(l.header), l.spec.DType.String(), string(shape), order, strconv.Itoa(l.spec.Size()), kind})
	return arrow.NewSchema([]arrow.Field{{Name: Column, Type: l.typ}}, &md)
}

// header returns the .npy header of an array of spec s, as
// Block.WriteTo writes it.
func header(s ndshm.Spec) ([]byte, error) {
	d := npy.Descr{Type: s.DType.String()}
	if s.DType.Fields() != nil {
		var err error
		if d, err = npy.ParseDescr(s.DType.String()); err != nil {
			return nil, err
		}
	}
	return npy.Header{Descr: d, Fortran: s.Fortran, Shape: s.Shape}.Encode(64)
}
