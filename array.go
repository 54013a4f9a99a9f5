package ndshm

// An Array is a typed n-dimensional view of memory it does not own,
// usually a Block's: it aliases the shared bytes and is valid only while
// the Block is open. Arrays are small values; copying one copies the
// view, not the data. Sub-views share data with their parent, as
// gonum's matrices do.
//
// Reads and writes through an Array are plain memory accesses: safe for
// concurrent use exactly when the elements touched are (see the package
// documentation). Index arguments out of range panic, as slices do.
type Array[T any] struct {
	data    []T   // from the view's first element to just past its last
	len0    int   // extent of axis 0, the one axis a sub-view narrows
	inner   []int // shape[1:], shared read-only with the parent
	strides []int // in elements, shared read-only with the parent
}

// NDim returns the number of dimensions, 0 for a scalar.
func (a Array[T]) NDim() int { return len(a.strides) }

// Dim returns the extent of axis i.
func (a Array[T]) Dim(i int) int {
	if i == 0 && len(a.strides) > 0 {
		return a.len0
	}
	return a.inner[i-1]
}

// Shape returns the extent of every axis in a new slice.
func (a Array[T]) Shape() []int {
	if len(a.strides) == 0 {
		return []int{}
	}
	return append([]int{a.len0}, a.inner...)
}

// Strides returns the distance, in elements, between neighbours along
// each axis, in a new slice.
func (a Array[T]) Strides() []int { return append([]int{}, a.strides...) }

// Len returns the number of elements: the product of the shape.
func (a Array[T]) Len() int {
	n := a.len0
	for _, d := range a.inner {
		n *= d
	}
	return n
}

// At returns the element at idx, one index per axis.
func (a Array[T]) At(idx ...int) T { return a.data[a.offset(idx)] }

// Addr returns a pointer to the element at idx, for atomic operations on
// shared counters (sync/atomic on an *int64, say). Like the view, it is
// valid only while the block is open.
func (a Array[T]) Addr(idx ...int) *T { return &a.data[a.offset(idx)] }

// Set stores v at idx, one index per axis.
func (a Array[T]) Set(v T, idx ...int) { a.data[a.offset(idx)] = v }

func (a Array[T]) offset(idx []int) int {
	if len(idx) != len(a.strides) {
		panic("ndshm: wrong number of indices")
	}
	off := 0
	for k, i := range idx {
		if uint(i) >= uint(a.Dim(k)) {
			panic("ndshm: index out of range")
		}
		off += i * a.strides[k]
	}
	return off
}

// Rows returns the sub-view of rows [i, j) along axis 0, sharing data
// with a: the unit in which work is split between processes. It
// allocates nothing.
func (a Array[T]) Rows(i, j int) Array[T] {
	if len(a.strides) == 0 || i < 0 || i > j || j > a.len0 {
		panic("ndshm: row range out of range")
	}
	b := a
	b.len0 = j - i
	start := min(i*a.strides[0], len(a.data))
	b.data = a.data[start : start+b.span()]
	return b
}

// Flat returns the elements as one slice in memory order (row-major for
// C order, column-major for Fortran), sharing data with a, and true; or
// nil and false if the view's elements are not contiguous, as the rows
// of a Fortran-order array are not.
func (a Array[T]) Flat() ([]T, bool) {
	n := a.Len()
	if len(a.data) != n {
		return nil, false
	}
	return a.data, true
}

// span is the number of elements from the view's first to its last.
func (a Array[T]) span() int {
	if len(a.strides) == 0 {
		return 1
	}
	if a.Len() == 0 {
		return 0
	}
	n := 1 + (a.len0-1)*a.strides[0]
	for k, d := range a.inner {
		n += (d - 1) * a.strides[k+1]
	}
	return n
}

// Index returns the sub-view a[i]: the (n-1)-dimensional array at index
// i along axis 0, sharing data with a, as NumPy's a[i] does. It allocates
// nothing; a ring's frames are its slot array's Index(slot).
func (a Array[T]) Index(i int) Array[T] {
	if len(a.strides) == 0 || uint(i) >= uint(a.len0) {
		panic("ndshm: index out of range")
	}
	b := Array[T]{len0: 1, strides: a.strides[1:]}
	if len(a.inner) > 0 {
		b.len0, b.inner = a.inner[0], a.inner[1:]
	}
	start := min(i*a.strides[0], len(a.data)) // a zero extent leaves no data
	b.data = a.data[start : start+b.span()]
	return b
}
