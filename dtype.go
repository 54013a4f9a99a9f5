package ndshm

import (
	"fmt"
	"strconv"
	"strings"
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
