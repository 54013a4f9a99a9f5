package ndshm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

func TestParseDType(t *testing.T) {
	cases := []struct {
		in, want string // want: NumPy's descriptor, dtype(in).str
		size     int
		kind     byte
	}{
		{"<f8", "<f8", 8, 'f'}, {"f8", "<f8", 8, 'f'}, {"=f8", "<f8", 8, 'f'}, {">f8", ">f8", 8, 'f'},
		{"float64", "<f8", 8, 'f'}, {"float32", "<f4", 4, 'f'}, {"float16", "<f2", 2, 'f'},
		{"<f4", "<f4", 4, 'f'}, {">f2", ">f2", 2, 'f'},
		{"bool", "|b1", 1, 'b'}, {"?", "|b1", 1, 'b'}, {"b1", "|b1", 1, 'b'}, {"<b1", "|b1", 1, 'b'}, {">b1", "|b1", 1, 'b'},
		{"int8", "|i1", 1, 'i'}, {"i1", "|i1", 1, 'i'}, {">i1", "|i1", 1, 'i'},
		{"int16", "<i2", 2, 'i'}, {"int32", "<i4", 4, 'i'}, {"int64", "<i8", 8, 'i'}, {">i4", ">i4", 4, 'i'},
		{"uint8", "|u1", 1, 'u'}, {"<u1", "|u1", 1, 'u'}, {"uint16", "<u2", 2, 'u'}, {"uint32", "<u4", 4, 'u'},
		{"uint64", "<u8", 8, 'u'}, {">u8", ">u8", 8, 'u'},
		{"complex64", "<c8", 8, 'c'}, {"complex128", "<c16", 16, 'c'}, {">c16", ">c16", 16, 'c'},
		{"S5", "|S5", 5, 'S'}, {"<S5", "|S5", 5, 'S'}, {"|S1", "|S1", 1, 'S'}, {"V16", "|V16", 16, 'V'}, {">V3", "|V3", 3, 'V'},
		{"<M8[ns]", "<M8[ns]", 8, 'M'}, {"M8[ns]", "<M8[ns]", 8, 'M'}, {">M8[us]", ">M8[us]", 8, 'M'},
		{"datetime64[ms]", "<M8[ms]", 8, 'M'}, {"datetime64[D]", "<M8[D]", 8, 'M'}, {"datetime64", "<M8", 8, 'M'},
		{"timedelta64[s]", "<m8[s]", 8, 'm'}, {"<m8[as]", "<m8[as]", 8, 'm'}, {"timedelta64", "<m8", 8, 'm'},
		// Other spellings of the same dtype are the same dtype: NumPy
		// reads '|' as native order and the size as an integer, and
		// String is documented to be NumPy's descriptor.
		{"|f8", "<f8", 8, 'f'}, {"|i4", "<i4", 4, 'i'}, {"f08", "<f8", 8, 'f'}, {"<i04", "<i4", 4, 'i'},
		{"S05", "|S5", 5, 'S'},
	}
	// Spellings NumPy's strtol takes but a strict parser may refuse: either
	// is fine, a non-canonical String is not.
	for _, s := range []string{"f+8", "<i+4", "S+5"} {
		if d, err := ndshm.ParseDType(s); err == nil {
			if w := mustDType(t, strings.Replace(s, "+", "", 1)); !d.Equal(w) || d.String() != w.String() {
				t.Errorf("ParseDType(%q) = %q, want %q or an error", s, d, w)
			}
		} else if !errors.Is(err, ndshm.ErrDType) {
			t.Errorf("ParseDType(%q): %v, want ErrDType", s, err)
		}
	}
	for _, c := range cases {
		d, err := ndshm.ParseDType(c.in)
		if err != nil {
			t.Errorf("ParseDType(%q): %v", c.in, err)
			continue
		}
		if d.String() != c.want || d.Size() != c.size || d.Kind() != c.kind || d.Native() != (c.want[0] != '>') {
			t.Errorf("ParseDType(%q) = %q size %d kind %c native %v; want %q size %d kind %c",
				c.in, d, d.Size(), d.Kind(), d.Native(), c.want, c.size, c.kind)
		}
		w, err := ndshm.ParseDType(c.want)
		if err != nil || !d.Equal(w) || !w.Equal(d) {
			t.Errorf("ParseDType(%q) = %q is not Equal to ParseDType(%q) = %q (%v)", c.in, d, c.want, w, err)
		}
	}
	for _, s := range []string{
		"", "<", ">", "|", "=", "f", "<f", "f0", "f1", "f3", "f16", "i3", "i16", "u16", "c4", "c32", "b2", "b0",
		"M4", "M8[xs]", "M8[]", "M8[ns", "M8ns]", "M8[ns]]", "m8[[ns]]", "U4", "<U4", "O", "|O", "O8", "S0", "V0",
		"S-1", "f-8", "S1073741825", "V99999999999999999999", "float", "int", "float128", "complex256",
		"<f8 ", " <f8", "<<f8", "f8,i4", "[('x', '<f8')]", "\x00", "f\x008", "datetime64[ns]x", "datetime64[ns][ns]",
		"object", "str", "a8", "p8",
	} {
		d, err := ndshm.ParseDType(s)
		if !errors.Is(err, ndshm.ErrDType) || !d.IsZero() {
			t.Errorf("ParseDType(%q) = %q, %v; want ErrDType", s, d, err)
		}
	}
	// The exported dtypes are what their names say.
	for _, c := range []struct {
		d    ndshm.DType
		name string
	}{
		{ndshm.Bool, "bool"}, {ndshm.Int8, "int8"}, {ndshm.Int16, "int16"}, {ndshm.Int32, "int32"},
		{ndshm.Int64, "int64"}, {ndshm.Uint8, "uint8"}, {ndshm.Uint16, "uint16"}, {ndshm.Uint32, "uint32"},
		{ndshm.Uint64, "uint64"}, {ndshm.Float16, "float16"}, {ndshm.Float32, "float32"},
		{ndshm.Float64, "float64"}, {ndshm.Complex64, "complex64"}, {ndshm.Complex128, "complex128"},
	} {
		if !c.d.Equal(mustDType(t, c.name)) || !c.d.Native() || c.d.IsZero() {
			t.Errorf("ndshm dtype %s is not %s", c.d, c.name)
		}
	}
	if !(ndshm.DType{}).IsZero() || ndshm.Float64.Equal(ndshm.DType{}) || ndshm.Float64.Equal(ndshm.Int64) {
		t.Error("zero DType")
	}
}
