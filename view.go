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
