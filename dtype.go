package ndshm

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ndshm/ndshm/internal/npy"
)

// A DType describes one array element the way NumPy does: a kind, a byte
// order and a size, or a list of fields for a structured (record) dtype.
// DTypes are immutable values, safe to copy and share between goroutines.
type DType struct {
	str    string  // NumPy's descriptor for a simple dtype: "<f8", "|b1", "<M8[ns]"
	kind   byte    // NumPy's kind character: b i u f c M m S V
	order  byte    // '<' little-endian, '>' big-endian, '|' no byte order
	size   int     // bytes per element
	fields []Field // non-nil for a structured dtype
}

// A Field is one member of a structured dtype.
type Field struct {
	Name   string
	DType  DType
	Shape  []int // sub-array shape, nil for a scalar member
	Offset int   // byte offset in the record
}

// The dtypes with a Go element type, in native (little-endian) order.
var (
	Bool       = mustDType("|b1")
	Int8       = mustDType("|i1")
	Int16      = mustDType("<i2")
	Int32      = mustDType("<i4")
	Int64      = mustDType("<i8")
	Uint8      = mustDType("|u1")
	Uint16     = mustDType("<u2")
	Uint32     = mustDType("<u4")
	Uint64     = mustDType("<u8")
	Float16    = mustDType("<f2") // viewed as uint16 bits
	Float32    = mustDType("<f4")
	Float64    = mustDType("<f8")
	Complex64  = mustDType("<c8")
	Complex128 = mustDType("<c16")
)

// names maps NumPy's dtype names to descriptors, for ParseDType.
var names = map[string]string{
	"bool": "|b1", "?": "|b1",
	"int8": "|i1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
	"uint8": "|u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
	"float16": "<f2", "float32": "<f4", "float64": "<f8",
	"complex64": "<c8", "complex128": "<c16",
}

// ParseDType parses a NumPy dtype string: a descriptor ("<f8", ">i4",
// "|u1", "f8", "<M8[ns]", "|V16") or a name ("float64", "uint8",
// "datetime64[ms]"). A descriptor without a byte order is native.
func ParseDType(s string) (DType, error) {
	if d, ok := names[s]; ok {
		s = d
	}
	for _, p := range [...]struct{ name, code string }{{"datetime64", "M8"}, {"timedelta64", "m8"}} {
		if rest, ok := strings.CutPrefix(s, p.name); ok {
			s = "<" + p.code + rest
		}
	}
	if s == "" {
		return DType{}, fmt.Errorf("empty dtype: %w", ErrDType)
	}
	order := s[0]
	switch order {
	case '<', '>', '|':
		s = s[1:]
	case '=':
		order, s = '<', s[1:]
	default:
		order = '<'
	}
	return simple(order, s)
}

// simple builds a DType from a byte order and the rest of a descriptor.
func simple(order byte, s string) (DType, error) {
	bad := func() (DType, error) {
		return DType{}, fmt.Errorf("unsupported dtype %q: %w", string(order)+s, ErrDType)
	}
	if len(s) < 2 {
		return bad()
	}
	kind, rest := s[0], s[1:]
	unit := ""
	if kind == 'M' || kind == 'm' {
		if i := strings.IndexByte(rest, '['); i >= 0 {
			rest, unit = rest[:i], rest[i:]
			if !validUnit(unit) {
				return bad()
			}
		}
	}
	size, err := strconv.Atoi(rest)
	if err != nil || rest[0] < '0' || rest[0] > '9' || !validSize(kind, size) {
		return bad()
	}
	if size == 1 || kind == 'S' || kind == 'V' {
		order = '|'
	} else if order == '|' {
		order = '<' // NumPy reads "not applicable" as native
	}
	str := string(order) + string(kind) + strconv.Itoa(size) + unit
	return DType{str: str, kind: kind, order: order, size: size}, nil
}

func validSize(kind byte, size int) bool {
	switch kind {
	case 'b':
		return size == 1
	case 'i', 'u':
		return size == 1 || size == 2 || size == 4 || size == 8
	case 'f':
		return size == 2 || size == 4 || size == 8
	case 'c':
		return size == 8 || size == 16
	case 'M', 'm':
		return size == 8
	case 'S', 'V':
		return size > 0 && size <= 1<<30
	}
	return false
}

func validUnit(u string) bool {
	switch strings.TrimSuffix(strings.TrimPrefix(u, "["), "]") {
	case "Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic":
		return len(u) > 2 && u[0] == '[' && u[len(u)-1] == ']'
	}
	return false
}

func mustDType(s string) DType {
	d, err := ParseDType(s)
	if err != nil {
		panic(err)
	}
	return d
}

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

// MarshalText implements encoding.TextMarshaler: it returns String, the
// NumPy descriptor ("<f8"), which UnmarshalText and NumPy's np.dtype
// read back.
func (d DType) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return nil, fmt.Errorf("no dtype: %w", ErrDType)
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler. It accepts what
// ParseDType accepts, and the field list String gives a structured
// dtype, so that every DType survives a round trip through its text.
func (d *DType) UnmarshalText(text []byte) error {
	s := string(text)
	if !strings.HasPrefix(s, "[") {
		dt, err := ParseDType(s)
		if err != nil {
			return err
		}
		*d = dt
		return nil
	}
	descr, err := npy.ParseDescr(s)
	if err != nil {
		return fmt.Errorf("structured dtype %q: %w: %w", s, err, ErrDType)
	}
	dt, err := fromDescr(descr)
	if err != nil {
		return err
	}
	*d = dt
	return nil
}
