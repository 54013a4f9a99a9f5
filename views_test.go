package ndshm_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A arrLayout is a shape and memory order to view.
type arrLayout struct {
	name    string
	shape   []int
	fortran bool
}

var arrLayouts = []arrLayout{
	{"0d-nil", nil, false},
	{"0d", []int{}, false},
	{"0d-F", []int{}, true},
	{"len0", []int{0}, false},
	{"len0-F", []int{0}, true},
	{"3x0", []int{3, 0}, false},
	{"3x0-F", []int{3, 0}, true},
	{"0x4", []int{0, 4}, false},
	{"0x4-F", []int{0, 4}, true},
	{"1d", []int{7}, false},
	{"1d-F", []int{7}, true},
	{"3x4", []int{3, 4}, false},
	{"3x4-F", []int{3, 4}, true},
	{"4x1-F", []int{4, 1}, true}, // its row ranges are contiguous after all
	{"1x5-F", []int{1, 5}, true},
	{"2x3x4", []int{2, 3, 4}, false},
	{"2x3x4-F", []int{2, 3, 4}, true},
	{"3x2x0x2-F", []int{3, 2, 0, 2}, true},
	{"2x3x1x5", []int{2, 3, 1, 5}, false},
	{"2x3x1x5-F", []int{2, 3, 1, 5}, true},
	{"3x2x2x2-F", []int{3, 2, 2, 2}, true},
}

// elemCase runs the arrLayout checks for one Go element type.
type elemCase interface {
	run(t *testing.T, dt ndshm.DType, l arrLayout)
}

// elemOf describes a Go element type T: val gives the value stored at a
// given C-order linear index, dec decodes one element from its bytes
// with encoding/binary.
type elemOf[T comparable] struct {
	val func(k int) T
	dec func(b []byte) T
}

var lendian = binary.LittleEndian

type recXY struct {
	X float64
	Y int32
}

type recSub struct {
	T int64
	V [3]float32
}

func TestViewLayouts(t *testing.T) {
	f32 := func(b []byte) float32 { return math.Float32frombits(lendian.Uint32(b)) }
	f64 := func(b []byte) float64 { return math.Float64frombits(lendian.Uint64(b)) }
	cases := []struct {
		name string
		dt   ndshm.DType
		c    elemCase
	}{
		{"int8", ndshm.Int8, elemOf[int8]{
			func(k int) int8 { return int8(k*37 - 100) },
			func(b []byte) int8 { return int8(b[0]) }}},
		{"int16", ndshm.Int16, elemOf[int16]{
			func(k int) int16 { return int16(k*1237 - 20000) },
			func(b []byte) int16 { return int16(lendian.Uint16(b)) }}},
		{"int32", ndshm.Int32, elemOf[int32]{
			func(k int) int32 { return int32(k*123457 - 1<<30) },
			func(b []byte) int32 { return int32(lendian.Uint32(b)) }}},
		{"int64", ndshm.Int64, elemOf[int64]{
			func(k int) int64 { return int64(k)*1_000_000_000_007 - 1<<62 },
			func(b []byte) int64 { return int64(lendian.Uint64(b)) }}},
		{"int-on-i8", ndshm.Int64, elemOf[int]{
			func(k int) int { return -k * 3 },
			func(b []byte) int { return int(int64(lendian.Uint64(b))) }}},
		{"uint8", ndshm.Uint8, elemOf[uint8]{
			func(k int) uint8 { return uint8(k*7 + 1) },
			func(b []byte) uint8 { return b[0] }}},
		{"uint16", ndshm.Uint16, elemOf[uint16]{
			func(k int) uint16 { return uint16(k*2003 + 1) },
			lendian.Uint16}},
		{"uint32", ndshm.Uint32, elemOf[uint32]{
			func(k int) uint32 { return uint32(k+1) * 2654435761 },
			lendian.Uint32}},
		{"uint64", ndshm.Uint64, elemOf[uint64]{
			func(k int) uint64 { return uint64(k+1) * 0x9E3779B97F4A7C15 },
			lendian.Uint64}},
		{"uint-on-u8", ndshm.Uint64, elemOf[uint]{
			func(k int) uint { return uint(k) << 40 },
			func(b []byte) uint { return uint(lendian.Uint64(b)) }}},
		{"float32", ndshm.Float32, elemOf[float32]{
			func(k int) float32 { return float32(k)*0.25 - 3 },
			f32}},
		{"float64", ndshm.Float64, elemOf[float64]{
			func(k int) float64 { return float64(k)*1.5e-3 - 7 },
			f64}},
		{"complex64", ndshm.Complex64, elemOf[complex64]{
			func(k int) complex64 { return complex(float32(k), -float32(k)*0.5) },
			func(b []byte) complex64 { return complex(f32(b), f32(b[4:])) }}},
		{"complex128", ndshm.Complex128, elemOf[complex128]{
			func(k int) complex128 { return complex(float64(k)/3, 1e300/float64(k+1)) },
			func(b []byte) complex128 { return complex(f64(b), f64(b[8:])) }}},
		{"bool", ndshm.Bool, elemOf[bool]{
			func(k int) bool { return k%3 == 1 },
			func(b []byte) bool {
				if b[0] > 1 {
					panic(fmt.Sprintf("bool byte %d", b[0]))
				}
				return b[0] == 1
			}}},
		{"uint8-on-bool", ndshm.Bool, elemOf[uint8]{
			func(k int) uint8 { return uint8(k % 2) },
			func(b []byte) uint8 { return b[0] }}},
		{"float16-as-uint16", ndshm.Float16, elemOf[uint16]{
			func(k int) uint16 { return uint16(0x3c00 + k) },
			lendian.Uint16}},
		{"datetime64[ns]-as-int64", mustDType(t, "<M8[ns]"), elemOf[int64]{
			func(k int) int64 { return 1_700_000_000_000_000_000 + int64(k)*1_000_000_007 },
			func(b []byte) int64 { return int64(lendian.Uint64(b)) }}},
		{"timedelta64[s]-as-int64", mustDType(t, "timedelta64[s]"), elemOf[int64]{
			func(k int) int64 { return int64(k) * -3600 },
			func(b []byte) int64 { return int64(lendian.Uint64(b)) }}},
		{"S3-as-array", mustDType(t, "|S3"), elemOf[[3]byte]{
			func(k int) [3]byte { return [3]byte{'a' + byte(k%26), byte(k), byte(k >> 8)} },
			func(b []byte) [3]byte { return [3]byte(b) }}},
		{"V5-as-array", mustDType(t, "|V5"), elemOf[[5]byte]{
			func(k int) [5]byte { return [5]byte{byte(k), 1, 2, 3, byte(255 - k)} },
			func(b []byte) [5]byte { return [5]byte(b) }}},
		{"struct", loadDType(t, "[('x', '<f8'), ('y', '<i4'), ('', '|V4')]", 16), elemOf[recXY]{
			func(k int) recXY { return recXY{X: float64(k) / 4, Y: int32(-k)} },
			func(b []byte) recXY { return recXY{X: f64(b), Y: int32(lendian.Uint32(b[8:]))} }}},
		{"struct-subarray", loadDType(t, "[('t', '<i8'), ('v', '<f4', (3,)), ('', '|V4')]", 24), elemOf[recSub]{
			func(k int) recSub { return recSub{T: int64(k) << 33, V: [3]float32{float32(k), -1, float32(k) / 8}} },
			func(b []byte) recSub {
				return recSub{T: int64(lendian.Uint64(b)), V: [3]float32{f32(b[8:]), f32(b[12:]), f32(b[16:])}}
			}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, l := range arrLayouts {
				t.Run(l.name, func(t *testing.T) { c.c.run(t, c.dt, l) })
			}
		})
	}
}

// checkMeta checks an array's shape, strides, length and dimensions.
func checkMeta[T any](t *testing.T, what string, a ndshm.Array[T], shape, strides []int) {
	t.Helper()
	if got := a.NDim(); got != len(shape) {
		t.Errorf("%s: NDim() = %d, want %d", what, got, len(shape))
	}
	if got := a.Shape(); got == nil || !slices.Equal(got, shape) {
		t.Errorf("%s: Shape() = %#v, want %v", what, got, shape)
	}
	if got := a.Strides(); got == nil || !slices.Equal(got, strides) {
		t.Errorf("%s: Strides() = %#v, want %v", what, got, strides)
	}
	if got := a.Len(); got != shapeLen(shape) {
		t.Errorf("%s: Len() = %d, want %d", what, got, shapeLen(shape))
	}
	for k, d := range shape {
		if got := a.Dim(k); got != d {
			t.Errorf("%s: Dim(%d) = %d, want %d", what, k, got, d)
		}
	}
	// The slices returned are the caller's.
	if s := a.Shape(); len(s) > 0 {
		s[0]++
		if a.Shape()[0] != shape[0] {
			t.Errorf("%s: writing to Shape()'s result changed the array", what)
		}
	}
	if s := a.Strides(); len(s) > 0 {
		s[0]++
		if a.Strides()[0] != strides[0] {
			t.Errorf("%s: writing to Strides()'s result changed the array", what)
		}
	}
}

func (e elemOf[T]) run(t *testing.T, dt ndshm.DType, l arrLayout) {
	size := dt.Size()
	b := tBlock(t, ndshm.Spec{DType: dt, Shape: l.shape, Fortran: l.fortran})
	a, err := ndshm.View[T](b)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	shape := l.shape
	if shape == nil {
		shape = []int{}
	}
	n := shapeLen(shape)
	cLin := func(idx []int) int { return refOffset(idx, shape, false) }
	memOff := func(idx []int) int { return refOffset(idx, shape, l.fortran) }
	checkMeta(t, "View", a, shape, refStrides(shape, l.fortran))

	data := b.Bytes()
	if len(data) != n*size {
		t.Fatalf("len(Bytes()) = %d, want %d", len(data), n*size)
	}
	at := func(off int) T { return e.dec(data[off*size : (off+1)*size]) }
	var zero T
	for _, idx := range allIndices(shape, false) {
		if got := at(memOff(idx)); got != zero {
			t.Fatalf("new block: element %v = %v, want zero", idx, got)
		}
	}

	// Fill through Set, check the bytes at the reference arrLayout and At.
	fill := func() {
		for _, idx := range allIndices(shape, false) {
			a.Set(e.val(cLin(idx)), idx...)
		}
	}
	fill()
	for _, idx := range allIndices(shape, false) {
		want := e.val(cLin(idx))
		if got := at(memOff(idx)); got != want {
			t.Errorf("after Set: bytes of element %v (offset %d) decode to %v, want %v", idx, memOff(idx), got, want)
		}
		if got := a.At(idx...); got != want {
			t.Errorf("At(%v) = %v, want %v", idx, got, want)
		}
	}

	// The whole array is contiguous in its own order.
	flat, ok := a.Flat()
	if !ok || len(flat) != n {
		t.Fatalf("Flat() = %d elements, %v; want %d, true", len(flat), ok, n)
	}
	for _, idx := range allIndices(shape, false) {
		if got, want := flat[memOff(idx)], e.val(cLin(idx)); got != want {
			t.Errorf("Flat()[%d] (element %v) = %v, want %v", memOff(idx), idx, got, want)
		}
	}
	for p := range flat {
		flat[p] = e.val(p + 1000)
	}
	for _, idx := range allIndices(shape, false) {
		want := e.val(memOff(idx) + 1000)
		if got := at(memOff(idx)); got != want {
			t.Errorf("write through Flat()[%d]: bytes decode to %v, want %v", memOff(idx), got, want)
		}
		if got := a.At(idx...); got != want {
			t.Errorf("write through Flat()[%d]: At(%v) = %v, want %v", memOff(idx), idx, got, want)
		}
	}
	fill()

	if len(shape) > 0 {
		for i := 0; i <= shape[0]; i++ {
			for j := i; j <= shape[0]; j++ {
				e.checkRows(t, a, at, shape, l.fortran, i, j)
			}
		}
		for i := range shape[0] {
			e.checkIndex(t, a, shape, l.fortran, i)
		}
		mustPanic(t, "Index(-1)", func() { a.Index(-1) })
		mustPanic(t, "Index(len)", func() { a.Index(shape[0]) })
	} else {
		mustPanic(t, "Index(0) of a 0-d array", func() { a.Index(0) })
	}
	checkPanics(t, "View", a, shape)
}

// checkIndex checks the sub-view a.Index(i), NumPy's a[i], against the
// reference layout: one axis fewer, the same strides for the rest.
func (e elemOf[T]) checkIndex(t *testing.T, a ndshm.Array[T], shape []int, fortran bool, i int) {
	what := fmt.Sprintf("Index(%d)", i)
	r := a.Index(i)
	checkMeta(t, what, r, shape[1:], refStrides(shape, fortran)[1:])
	for _, s := range allIndices(shape[1:], false) {
		full := append([]int{i}, s...)
		if got, want := r.At(s...), e.val(refOffset(full, shape, false)); got != want {
			t.Errorf("%s.At(%v) = %v, want %v", what, s, got, want)
		}
	}
}

// checkRows checks the sub-view a.Rows(i, j) of a, whose element at
// memory offset p decodes as at(p), against the reference arrLayout.
func (e elemOf[T]) checkRows(t *testing.T, a ndshm.Array[T], at func(int) T, shape []int, fortran bool, i, j int) {
	what := fmt.Sprintf("Rows(%d, %d)", i, j)
	r := a.Rows(i, j)
	sub := append([]int{j - i}, shape[1:]...)
	checkMeta(t, what, r, sub, refStrides(shape, fortran))
	full := func(s []int) []int {
		f := slices.Clone(s)
		f[0] += i
		return f
	}
	cLin := func(f []int) int { return refOffset(f, shape, false) }
	memOff := func(f []int) int { return refOffset(f, shape, fortran) }

	for _, s := range allIndices(sub, false) {
		if got, want := r.At(s...), e.val(cLin(full(s))); got != want {
			t.Errorf("%s.At(%v) = %v, want %v (element %v)", what, s, got, want, full(s))
		}
	}

	// Reference contiguity: the sub-view's elements, taken in memory
	// order, sit at consecutive offsets.
	mem := allIndices(sub, fortran)
	contig := true
	for k, s := range mem {
		if memOff(full(s)) != memOff(full(mem[0]))+k {
			contig = false
		}
	}
	// What the documentation promises, which the reference must agree with.
	if (!fortran || (i == 0 && j == shape[0])) && !contig {
		t.Fatalf("%s: reference says a C range or a full range is not contiguous", what)
	}
	if fortran && len(shape) >= 2 && j-i > 0 && j-i < shape[0] && shapeLen(shape[1:]) > 1 && contig {
		t.Fatalf("%s: reference says a strict Fortran row range is contiguous", what)
	}
	flat, ok := r.Flat()
	if ok != contig {
		t.Errorf("%s.Flat() ok = %v, want %v", what, ok, contig)
	}
	if !ok && flat != nil {
		t.Errorf("%s.Flat() = %d elements with ok false, want nil", what, len(flat))
	}
	if ok {
		if len(flat) != len(mem) {
			t.Errorf("%s.Flat() has %d elements, want %d", what, len(flat), len(mem))
		} else {
			for k, s := range mem {
				if got, want := flat[k], e.val(cLin(full(s))); got != want {
					t.Errorf("%s.Flat()[%d] = %v, want %v (element %v)", what, k, got, want, full(s))
				}
			}
		}
	}

	// The sub-view is bounded by its own rows.
	if len(sub) > 0 && shapeLen(shape[1:]) > 0 {
		mustPanic(t, what+".At(past its last row)", func() { r.At(append([]int{j - i}, make([]int, len(shape)-1)...)...) })
	}

	// Writes through the sub-view land in rows [i, j) of the block and
	// nowhere else.
	for _, s := range allIndices(sub, false) {
		r.Set(e.val(cLin(full(s))+5000), s...)
	}
	for _, f := range allIndices(shape, false) {
		want := e.val(cLin(f))
		if f[0] >= i && f[0] < j {
			want = e.val(cLin(f) + 5000)
		}
		if got := at(memOff(f)); got != want {
			t.Errorf("after %s.Set: element %v = %v, want %v", what, f, got, want)
		}
	}
	for _, s := range allIndices(sub, false) {
		a.Set(e.val(cLin(full(s))), full(s)...)
	}

	// A sub-view of a sub-view is the sub-view of the whole.
	if j-i >= 1 {
		r2, want := r.Rows(1, j-i), a.Rows(i+1, j)
		checkMeta(t, what+".Rows(1, end)", r2, want.Shape(), want.Strides())
		for _, s := range allIndices(want.Shape(), false) {
			if r2.At(s...) != want.At(s...) {
				t.Errorf("%s.Rows(1, end).At(%v) = %v, want %v", what, s, r2.At(s...), want.At(s...))
			}
		}
	}
	checkPanics(t, what, r, sub)
}

// checkPanics checks that a rejects bad allIndices and row ranges.
func checkPanics[T any](t *testing.T, what string, a ndshm.Array[T], shape []int) {
	t.Helper()
	nd := len(shape)
	var v T
	mustPanic(t, what+": At with one index too many", func() { a.At(make([]int, nd+1)...) })
	mustPanic(t, what+": Set with one index too many", func() { a.Set(v, make([]int, nd+1)...) })
	if nd > 0 {
		mustPanic(t, what+": At with one index too few", func() { a.At(make([]int, nd-1)...) })
		mustPanic(t, what+": Set with one index too few", func() { a.Set(v, make([]int, nd-1)...) })
	}
	if shapeLen(shape) == 0 {
		mustPanic(t, what+": At in an empty array", func() { a.At(make([]int, nd)...) })
	}
	for k := range nd {
		for _, bad := range []int{-1, shape[k], shape[k] + 1, math.MaxInt, math.MinInt} {
			idx := make([]int, nd)
			idx[k] = bad
			mustPanic(t, fmt.Sprintf("%s: At(%v)", what, idx), func() { a.At(idx...) })
			mustPanic(t, fmt.Sprintf("%s: Set(%v)", what, idx), func() { a.Set(v, idx...) })
		}
	}
	mustPanic(t, what+": Dim(NDim())", func() { a.Dim(nd) })
	mustPanic(t, what+": Dim(-1)", func() { a.Dim(-1) })
	if nd == 0 {
		mustPanic(t, what+": Rows(0, 0) of a 0-d array", func() { a.Rows(0, 0) })
		mustPanic(t, what+": Rows(0, 1) of a 0-d array", func() { a.Rows(0, 1) })
		return
	}
	n := shape[0]
	for _, r := range [][2]int{{-1, 0}, {-1, n}, {0, n + 1}, {n + 1, n + 1}, {1, 0}, {n, n - 1}, {math.MinInt, 0}, {0, math.MaxInt}} {
		mustPanic(t, fmt.Sprintf("%s: Rows(%d, %d)", what, r[0], r[1]), func() { a.Rows(r[0], r[1]) })
	}
}

// viewErr views b as T and returns the error.
func viewErr[T any](b *ndshm.Block) error {
	_, err := ndshm.View[T](b)
	return err
}

func TestViewWrongType(t *testing.T) {
	type pad struct {
		X float64
		Y int32
		_ int32
	}
	cases := []struct {
		dtype string
		goT   reflect.Type
		view  func(*ndshm.Block) error
	}{
		{"<f8", reflect.TypeFor[float32](), viewErr[float32]},
		{"<f8", reflect.TypeFor[int64](), viewErr[int64]},
		{"<f8", reflect.TypeFor[uint64](), viewErr[uint64]},
		{"<f8", reflect.TypeFor[complex64](), viewErr[complex64]},
		{"<f8", reflect.TypeFor[[8]byte](), viewErr[[8]byte]},
		{"<f8", reflect.TypeFor[*int](), viewErr[*int]},
		{"<f8", reflect.TypeFor[uintptr](), viewErr[uintptr]},
		{"<f8", reflect.TypeFor[pad](), viewErr[pad]},
		{"<f4", reflect.TypeFor[float64](), viewErr[float64]},
		{"<f4", reflect.TypeFor[int32](), viewErr[int32]},
		{"<f4", reflect.TypeFor[[4]byte](), viewErr[[4]byte]},
		{"<f2", reflect.TypeFor[int16](), viewErr[int16]},
		{"<f2", reflect.TypeFor[float32](), viewErr[float32]},
		{"<i8", reflect.TypeFor[float64](), viewErr[float64]},
		{"<i8", reflect.TypeFor[uint64](), viewErr[uint64]},
		{"<i8", reflect.TypeFor[int32](), viewErr[int32]},
		{"<i8", reflect.TypeFor[*byte](), viewErr[*byte]},
		{"<i8", reflect.TypeFor[string](), viewErr[string]},
		{"<i8", reflect.TypeFor[func()](), viewErr[func()]},
		{"<i8", reflect.TypeFor[chan int](), viewErr[chan int]},
		{"<i8", reflect.TypeFor[map[int]int](), viewErr[map[int]int]},
		{"<i4", reflect.TypeFor[int](), viewErr[int]},
		{"<u8", reflect.TypeFor[int64](), viewErr[int64]},
		{"<u4", reflect.TypeFor[int32](), viewErr[int32]},
		{"|u1", reflect.TypeFor[bool](), viewErr[bool]},
		{"|u1", reflect.TypeFor[int8](), viewErr[int8]},
		{"|i1", reflect.TypeFor[uint8](), viewErr[uint8]},
		{"|b1", reflect.TypeFor[int8](), viewErr[int8]},
		{"<c16", reflect.TypeFor[complex64](), viewErr[complex64]},
		{"<c8", reflect.TypeFor[complex128](), viewErr[complex128]},
		{"<c8", reflect.TypeFor[uint64](), viewErr[uint64]},
		{"<M8[ns]", reflect.TypeFor[float64](), viewErr[float64]},
		{"<M8[ns]", reflect.TypeFor[uint64](), viewErr[uint64]},
		{"|S8", reflect.TypeFor[int64](), viewErr[int64]},
		{"|S8", reflect.TypeFor[[4]byte](), viewErr[[4]byte]},
		{"|S8", reflect.TypeFor[[8]int8](), viewErr[[8]int8]},
		{"|S8", reflect.TypeFor[struct{ A, B int32 }](), viewErr[struct{ A, B int32 }]},
	}
	for _, c := range cases {
		t.Run(c.dtype+"/"+c.goT.String(), func(t *testing.T) {
			b := tBlock(t, ndshm.Spec{DType: mustDType(t, c.dtype), Shape: []int{3}})
			err := c.view(b)
			if !errors.Is(err, ndshm.ErrDType) {
				t.Fatalf("View[%v] of %s: %v, want ErrDType", c.goT, c.dtype, err)
			}
			if msg := err.Error(); !strings.Contains(msg, c.dtype) || !strings.Contains(msg, c.goT.String()) {
				t.Errorf("View[%v] of %s: error %q does not name both", c.goT, c.dtype, msg)
			}
		})
	}
}

func TestViewBool(t *testing.T) {
	for _, bad := range []struct {
		at int
		v  byte
	}{{0, 2}, {5, 2}, {11, 255}, {6, 0x80}} {
		t.Run(fmt.Sprintf("byte%d=%d", bad.at, bad.v), func(t *testing.T) {
			b := tBlock(t, ndshm.Spec{DType: ndshm.Bool, Shape: []int{3, 4}})
			if _, err := ndshm.View[bool](b); err != nil {
				t.Fatalf("View[bool] of zeros: %v", err)
			}
			b.Bytes()[1] = 1
			if _, err := ndshm.View[bool](b); err != nil {
				t.Fatalf("View[bool] of 0s and a 1: %v", err)
			}
			b.Bytes()[bad.at] = bad.v
			_, err := ndshm.View[bool](b)
			if !errors.Is(err, ndshm.ErrDType) {
				t.Errorf("View[bool] with a byte %d: %v, want ErrDType", bad.v, err)
			}
			u, err := ndshm.View[uint8](b)
			if err != nil {
				t.Fatalf("View[uint8] of a bool array: %v", err)
			}
			if got := u.At(bad.at/4, bad.at%4); got != bad.v {
				t.Errorf("View[uint8].At = %d, want %d", got, bad.v)
			}
			u.Set(1, bad.at/4, bad.at%4)
			a, err := ndshm.View[bool](b)
			if err != nil {
				t.Fatalf("View[bool] once the byte is 1 again: %v", err)
			}
			for k, c := range b.Bytes() {
				if got := a.At(k/4, k%4); got != (c == 1) {
					t.Errorf("View[bool].At(%d, %d) = %v, byte is %d", k/4, k%4, got, c)
				}
			}
		})
	}
}

func TestViewBigEndian(t *testing.T) {
	for _, c := range []struct {
		dtype string
		view  func(*ndshm.Block) error
	}{
		{">f8", viewErr[float64]},
		{">f8", viewErr[uint64]},
		{">f8", viewErr[[8]byte]},
		{">i4", viewErr[int32]},
		{">u2", viewErr[uint16]},
		{">c8", viewErr[complex64]},
		{">M8[ns]", viewErr[int64]},
	} {
		t.Run(c.dtype, func(t *testing.T) {
			dt := mustDType(t, c.dtype)
			if dt.Native() || dt.String() != c.dtype {
				t.Fatalf("ParseDType(%q) = %s, Native() %v", c.dtype, dt, dt.Native())
			}
			b := tBlock(t, ndshm.Spec{DType: dt, Shape: []int{3}})
			o, err := ndshm.Open(b.Name())
			if err != nil {
				t.Fatalf("Open of a big-endian block: %v", err)
			}
			defer o.Close()
			if got := o.DType(); !got.Equal(dt) {
				t.Errorf("opened block's dtype is %s, want %s", got, dt)
			}
			if len(o.Bytes()) != 3*dt.Size() {
				t.Errorf("Bytes() has %d bytes, want %d", len(o.Bytes()), 3*dt.Size())
			}
			if err := c.view(o); !errors.Is(err, ndshm.ErrDType) {
				t.Errorf("typed view of %s: %v, want ErrDType", c.dtype, err)
			}
		})
	}
}

// The structured dtype of the task: a record of a float64, an int32 and
// four bytes of padding, written by hand as NumPy would.
const recDescr = "[('x', '<f8'), ('y', '<i4'), ('', '|V4')]"

func TestViewStruct(t *testing.T) {
	dict := "{'descr': [('x', '<f8'), ('y', '<i4'), ('', '|V4')], 'fortran_order': False, 'shape': (5,), }"
	if got := npyDict(recDescr, false, []int{5}); got != dict {
		t.Fatalf("npyDict = %q, want %q", got, dict)
	}
	data := make([]byte, 5*16)
	for i := range 5 {
		lendian.PutUint64(data[16*i:], math.Float64bits(float64(i)+0.5))
		lendian.PutUint32(data[16*i+8:], uint32(int32(-10*i)))
		copy(data[16*i+12:], "PAD!")
	}
	hdr := npyAligned(t, dict, 64)
	if len(hdr) != 128 || hdr[len(hdr)-1] != '\n' {
		t.Fatalf("header is %d bytes", len(hdr))
	}
	p := writeNPY(t, dict, data)
	b, err := ndshm.Load(p, "/"+shmtest.Name())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer b.Close()

	dt := b.DType()
	if dt.Size() != 16 || dt.Kind() != 'V' || !dt.Native() {
		t.Errorf("dtype %s: size %d kind %c native %v", dt, dt.Size(), dt.Kind(), dt.Native())
	}
	want := []struct {
		name   string
		dtype  string
		offset int
	}{{"x", "<f8", 0}, {"y", "<i4", 8}, {"", "|V4", 12}}
	fields := dt.Fields()
	if len(fields) != len(want) {
		t.Fatalf("Fields() = %v", fields)
	}
	for i, w := range want {
		if f := fields[i]; f.Name != w.name || f.DType.String() != w.dtype || f.Offset != w.offset || f.Shape != nil {
			t.Errorf("field %d = %+v, want %+v", i, f, w)
		}
	}
	if !slices.Equal(b.Bytes(), data) {
		t.Errorf("Load copied % x, want % x", b.Bytes(), data)
	}

	a, err := ndshm.View[recXY](b)
	if err != nil {
		t.Fatalf("View[recXY]: %v", err)
	}
	for i := range 5 {
		if got, want := a.At(i), (recXY{X: float64(i) + 0.5, Y: int32(-10 * i)}); got != want {
			t.Errorf("At(%d) = %+v, want %+v", i, got, want)
		}
	}
	a.Set(recXY{X: -1, Y: 77}, 3)
	if x, y := math.Float64frombits(lendian.Uint64(b.Bytes()[48:])), int32(lendian.Uint32(b.Bytes()[56:])); x != -1 || y != 77 {
		t.Errorf("Set(3) wrote x=%v y=%v", x, y)
	}

	// Go structs with the same arrLayout, whatever their field names.
	for name, view := range map[string]func(*ndshm.Block) error{
		"renamed": viewErr[struct {
			A float64
			B int32
		}],
		"blank padding": viewErr[struct {
			X float64
			Y int32
			_ [4]byte
		}],
		"unexported": viewErr[struct {
			x float64
			y int32
		}],
		"bytes": viewErr[[16]byte],
	} {
		if err := view(b); err != nil {
			t.Errorf("View of a matching %s struct: %v", name, err)
		}
	}
	// And structs that do not match.
	for name, view := range map[string]func(*ndshm.Block) error{
		"y int64": viewErr[struct {
			X float64
			Y int64
		}],
		"y uint32": viewErr[struct {
			X float64
			Y uint32
		}],
		"y float32": viewErr[struct {
			X float64
			Y float32
		}],
		"swapped": viewErr[struct {
			Y int32
			X float64
		}],
		"x int64": viewErr[struct {
			X int64
			Y int32
		}],
		"extra named field": viewErr[struct {
			X float64
			Y int32
			Z int32
		}],
		"y bool": viewErr[struct {
			X float64
			Y bool
		}],
		"x only": viewErr[struct{ X float64 }],
		"y [4]byte": viewErr[struct {
			X float64
			Y [4]byte
		}],
		"larger": viewErr[struct {
			X float64
			Y int32
			Z float64
		}],
		"bytes [8]":  viewErr[[8]byte],
		"float64":    viewErr[float64],
		"complex128": viewErr[complex128],
	} {
		if err := view(b); !errors.Is(err, ndshm.ErrDType) {
			t.Errorf("View of a mismatching struct (%s): %v, want ErrDType", name, err)
		}
	}
}

func TestViewStructMembers(t *testing.T) {
	cases := []struct {
		descr string
		size  int
		ok    bool
		view  func(*ndshm.Block) error
	}{
		{"[('t', '<i8'), ('v', '<f4', (3,)), ('', '|V4')]", 24, true, viewErr[recSub]},
		{"[('t', '<i8'), ('v', '<f4', (3,)), ('', '|V4')]", 24, false, viewErr[struct {
			T int64
			V [2]float32
			W float32
		}]},
		{"[('m', '<i4', (2, 3))]", 24, true, viewErr[struct{ M [2][3]int32 }]},
		{"[('m', '<i4', (2, 3))]", 24, false, viewErr[struct{ M [3][2]int32 }]},
		{"[('m', '<i4', (2, 3))]", 24, false, viewErr[struct{ M [6]int32 }]},
		{"[('a', [('b', '<u2'), ('c', '<u2')]), ('d', '<u4')]", 8, true, viewErr[struct {
			A struct{ B, C uint16 }
			D uint32
		}]},
		{"[('a', [('b', '<u2'), ('c', '<u2')]), ('d', '<u4')]", 8, false, viewErr[struct {
			A uint32
			D uint32
		}]},
		{"[('ok', '|b1'), ('', '|V7')]", 8, false, viewErr[struct {
			OK bool
			_  [7]byte
		}]},
		{"[('ok', '|b1'), ('', '|V7')]", 8, true, viewErr[struct {
			OK uint8
			_  [7]byte
		}]},
		{"[('x', '>f8')]", 8, false, viewErr[struct{ X float64 }]},
		{"[('s', '|S5'), ('', '|V3'), ('n', '<i8')]", 16, true, viewErr[struct {
			S [5]byte
			N int64
		}]},
		{"[('w', '<M8[us]'), ('d', '<m8[D]')]", 16, true, viewErr[struct{ W, D int64 }]},
		// Same members and size, other offsets.
		{"[('a', '<i4'), ('b', '<i4'), ('', '|V8')]", 16, false, viewErr[struct {
			A int32
			_ int32
			B int32
			_ int32
		}]},
		{"[('a', '<i4'), ('b', '<i4'), ('', '|V8')]", 16, true, viewErr[struct {
			A int32
			B int32
			_ [8]byte
		}]},
		{"[('a', '|u1'), ('b', '<u2'), ('', '|V1')]", 4, false, viewErr[struct {
			A uint8
			B uint16
		}]},
		{"[('a', '|u1'), ('', '|V1'), ('b', '<u2')]", 4, true, viewErr[struct {
			A uint8
			B uint16
		}]},
	}
	for _, c := range cases {
		t.Run(c.descr, func(t *testing.T) {
			dt := loadDType(t, c.descr, c.size)
			if dt.Size() != c.size {
				t.Fatalf("%s has size %d, want %d", dt, dt.Size(), c.size)
			}
			b := tBlock(t, ndshm.Spec{DType: dt, Shape: []int{2}})
			err := c.view(b)
			if c.ok && err != nil {
				t.Errorf("View: %v", err)
			}
			if !c.ok && !errors.Is(err, ndshm.ErrDType) {
				t.Errorf("View: %v, want ErrDType", err)
			}
		})
	}
}

// DTypes are documented immutable values: what Fields returns is the
// caller's, down to the sub-array shapes.
func TestDTypeImmutable(t *testing.T) {
	dt := loadDType(t, "[('x', '<f8'), ('v', '<f4', (2,))]", 16)
	before := dt.String()
	fs := dt.Fields()
	if len(fs) != 2 || !slices.Equal(fs[1].Shape, []int{2}) {
		t.Fatalf("Fields() = %+v", fs)
	}
	fs[0].Name = "changed"
	fs[1].Shape[0] = 7
	if got := dt.String(); got != before {
		t.Errorf("changing what Fields() returned changed the dtype from %s to %s", before, got)
	}
	if got := dt.Fields()[1].Shape; !slices.Equal(got, []int{2}) {
		t.Errorf("field v's shape is now %v, want [2]", got)
	}
}

func TestAddr(t *testing.T) {
	for _, l := range arrLayouts {
		t.Run(l.name, func(t *testing.T) {
			b := tBlock(t, ndshm.Spec{DType: ndshm.Int64, Shape: l.shape, Fortran: l.fortran})
			a, err := ndshm.View[int64](b)
			if err != nil {
				t.Fatal(err)
			}
			shape := a.Shape()
			flat, _ := a.Flat()
			for _, idx := range allIndices(shape, false) {
				p := a.Addr(idx...)
				if off := refOffset(idx, shape, l.fortran); p != &flat[off] {
					t.Fatalf("Addr(%v) is not element %d", idx, off)
				}
				*p = int64(refOffset(idx, shape, false)) + 1
				if got := a.At(idx...); got != *p {
					t.Errorf("At(%v) = %d after a write through Addr, want %d", idx, got, *p)
				}
			}
			if len(shape) > 0 && shape[0] > 1 {
				r := a.Rows(1, shape[0])
				for _, s := range allIndices(r.Shape(), false) {
					f := slices.Clone(s)
					f[0]++
					if r.Addr(s...) != a.Addr(f...) {
						t.Errorf("Rows(1, end).Addr(%v) != Addr(%v)", s, f)
					}
				}
			}
			nd := len(shape)
			mustPanic(t, "Addr with one index too many", func() { a.Addr(make([]int, nd+1)...) })
			for k := range nd {
				for _, bad := range []int{-1, shape[k]} {
					idx := make([]int, nd)
					idx[k] = bad
					mustPanic(t, fmt.Sprintf("Addr(%v)", idx), func() { a.Addr(idx...) })
				}
			}
		})
	}
	// Shared counters: atomic adds through Addr from many goroutines.
	b := tBlock(t, ndshm.Spec{DType: ndshm.Int64, Shape: []int{4}})
	a, _ := ndshm.View[int64](b)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				atomic.AddInt64(a.Addr((w+i)%4), 1)
			}
		})
	}
	wg.Wait()
	for i := range 4 {
		if got := atomic.LoadInt64(a.Addr(i)); got != 2000 {
			t.Errorf("counter %d = %d, want 2000", i, got)
		}
	}
}

func TestRecord(t *testing.T) {
	dt := loadDType(t, recDescr, 16)
	for _, l := range arrLayouts {
		t.Run(l.name, func(t *testing.T) {
			b := tBlock(t, ndshm.Spec{DType: dt, Shape: l.shape, Fortran: l.fortran})
			n := shapeLen(l.shape)
			data := b.Bytes()
			for p := range n {
				r := b.Record(p)
				if len(r) != 16 || cap(r) != 16 || &r[0] != &data[16*p] {
					t.Fatalf("Record(%d): %d bytes (cap %d), not bytes [%d, %d)", p, len(r), cap(r), 16*p, 16*p+16)
				}
				lendian.PutUint64(r, math.Float64bits(float64(p)))
				lendian.PutUint32(r[8:], uint32(p*3))
			}
			a, err := ndshm.View[recXY](b)
			if err != nil {
				t.Fatal(err)
			}
			shape := a.Shape()
			for _, idx := range allIndices(shape, false) {
				p := refOffset(idx, shape, l.fortran) // Record counts in memory order
				if got, want := a.At(idx...), (recXY{X: float64(p), Y: int32(p * 3)}); got != want {
					t.Errorf("At(%v) = %+v after writing Record(%d), want %+v", idx, got, p, want)
				}
			}
			// Out of range, including indices whose byte offset i*16 wraps
			// around into the data.
			var calm []int
			for _, i := range []int{-1, n, n + 1, math.MaxInt, math.MinInt, math.MaxInt/16 + 1, 1 << 60, -1 << 60, 1<<60 + 1} {
				if !panics(func() { b.Record(i) }) {
					calm = append(calm, i)
				}
			}
			if calm != nil {
				t.Errorf("Record(i) of %d records does not panic for i in %v", n, calm)
			}
		})
	}
}
