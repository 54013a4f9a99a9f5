package ndshm

import (
	"fmt"
	"os"
	"reflect"
	"unsafe"
)

// View returns a typed view of the block's whole array. T must match the
// block's dtype (see DType for the Go types each NumPy type maps to); a
// mismatch is an ErrDType error naming both. Creating a view allocates
// nothing and reads no data, except for bool: every byte of a |b1 array
// is checked to be 0 or 1 first, since any other byte is undefined
// behaviour as a Go bool (view it as uint8 to skip the check).
//
// The view is valid until the block is closed.
func View[T any](b *Block) (Array[T], error) {
	if err := checkElem(reflect.TypeFor[T](), b.spec.DType); err != nil {
		return Array[T]{}, err
	}
	mem := b.file.Mem()
	if mem == nil && b.file.Closed() {
		return Array[T]{}, os.ErrClosed
	}
	data := b.data(mem)
	if reflect.TypeFor[T]().Kind() == reflect.Bool {
		if i := notBool(data); i >= 0 {
			return Array[T]{}, fmt.Errorf("%w: byte %d of a bool array is %d, not 0 or 1", ErrDType, i, data[i])
		}
	}
	s := b.spec
	a := Array[T]{
		data:    unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(data))), s.Len()),
		len0:    1,
		strides: b.strides,
	}
	if len(s.Shape) > 0 {
		a.len0, a.inner = s.Shape[0], s.Shape[1:]
	}
	a.data = a.data[:a.span()]
	return a, nil
}

func notBool(b []byte) int {
	for i, c := range b {
		if c > 1 {
			return i
		}
	}
	return -1
}

// checkElem reports whether Go values of type t may alias elements of d:
// same size, a matching kind, native byte order. Where NumPy has a type
// Go lacks, the Go type with the same bits serves: float16 as uint16,
// datetime64 and timedelta64 as int64, bool as uint8, bytes and void as
// [N]byte, records as structs with the same layout.
func checkElem(t reflect.Type, d DType) error {
	if !d.Native() {
		return fmt.Errorf("%w: %s is big-endian and would be misread; use Bytes", ErrDType, d)
	}
	if t.Size() != uintptr(d.size) || !sameKind(t, d) {
		return fmt.Errorf("%w: cannot view %s as Go %s", ErrDType, d, t)
	}
	return nil
}

func sameKind(t reflect.Type, d DType) bool {
	switch t.Kind() {
	case reflect.Bool:
		return d.kind == 'b'
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return d.kind == 'i' || d.kind == 'M' || d.kind == 'm'
	case reflect.Uint8:
		return d.kind == 'u' || d.kind == 'b'
	case reflect.Uint16:
		return d.kind == 'u' || d.kind == 'f'
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		return d.kind == 'u'
	case reflect.Float32, reflect.Float64:
		return d.kind == 'f' && d.size >= 4
	case reflect.Complex64, reflect.Complex128:
		return d.kind == 'c'
	case reflect.Array:
		return t.Elem().Kind() == reflect.Uint8 && (d.kind == 'S' || d.kind == 'V')
	case reflect.Struct:
		return d.fields != nil && sameLayout(t, d)
	}
	return false
}

// sameLayout matches the record's named fields, in order, to the
// struct's fields at the same offsets. NumPy's padding fields (no name)
// match Go's implicit padding or blank fields. Bool members are refused:
// a byte other than 0 or 1 in a Go bool is undefined behaviour, so view
// them as uint8.
func sameLayout(t reflect.Type, d DType) bool {
	i := 0
	for _, f := range d.fields {
		if f.Name == "" {
			continue
		}
		for i < t.NumField() && t.Field(i).Name == "_" {
			i++
		}
		if i == t.NumField() {
			return false
		}
		sf := t.Field(i)
		i++
		if sf.Offset != uintptr(f.Offset) || !sameMember(sf.Type, f) {
			return false
		}
	}
	for ; i < t.NumField(); i++ {
		if t.Field(i).Name != "_" {
			return false
		}
	}
	return true
}

// sameMember matches one record member, unwrapping a sub-array shape
// into nested Go arrays.
func sameMember(t reflect.Type, f Field) bool {
	for _, n := range f.Shape {
		if t.Kind() != reflect.Array || t.Len() != n {
			return false
		}
		t = t.Elem()
	}
	return t.Kind() != reflect.Bool && t.Size() == uintptr(f.DType.size) && sameKind(t, f.DType)
}
