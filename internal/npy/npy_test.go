package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func simple(t string) Descr { return Descr{Type: t} }

func fields(fs ...Field) Descr {
	if fs == nil {
		fs = []Field{}
	}
	return Descr{Fields: fs}
}

// manyFields returns a structured descr with n '<f4' fields, big enough
// for n in the thousands to need a version 2.0 header.
func manyFields(n int) Descr {
	fs := make([]Field, n)
	for i := range fs {
		fs[i] = Field{Name: "f" + strconv.Itoa(i), Descr: simple("<f4")}
	}
	return Descr{Fields: fs}
}

// nested returns a descr with depth levels of single-field structs.
func nested(depth int) Descr {
	d := simple("<i2")
	for range depth {
		d = fields(Field{Name: "n", Descr: d})
	}
	return d
}

// normalize returns h as Read returns it: a non-nil top-level shape and
// nil shapes for scalar fields.
func normalize(h Header) Header {
	if h.Shape == nil {
		h.Shape = []int{}
	}
	h.Descr = normalizeDescr(h.Descr)
	return h
}

func normalizeDescr(d Descr) Descr {
	if d.Fields == nil {
		return d
	}
	fs := make([]Field, len(d.Fields))
	for i, f := range d.Fields {
		f.Descr = normalizeDescr(f.Descr)
		if len(f.Shape) == 0 {
			f.Shape = nil
		}
		fs[i] = f
	}
	return Descr{Fields: fs}
}

var roundTripTests = []struct {
	name string
	h    Header
}{
	{"f8", Header{Descr: simple("<f8"), Shape: []int{3, 4}}},
	{"bool", Header{Descr: simple("|b1"), Shape: []int{7}}},
	{"datetime", Header{Descr: simple("<M8[ns]"), Shape: []int{2}}},
	{"0-d", Header{Descr: simple("<i8"), Shape: []int{}}},
	{"0-d nil shape", Header{Descr: simple("<i8")}},
	{"zero length", Header{Descr: simple("<u2"), Shape: []int{0}}},
	{"zero length 2-d", Header{Descr: simple("<u2"), Shape: []int{5, 0}}},
	{"fortran", Header{Descr: simple(">f4"), Fortran: true, Shape: []int{2, 3}}},
	{"max dims", Header{Descr: simple("|u1"), Shape: make([]int, MaxDims)}},
	{"huge dim", Header{Descr: simple("|u1"), Shape: []int{maxDim}}},
	{"structured", Header{Descr: fields(
		Field{Name: "x", Descr: simple("<f8")},
		Field{Name: "y", Descr: simple("<i4"), Shape: []int{3}},
	), Shape: []int{10}}},
	{"nested structured", Header{Descr: fields(
		Field{Name: "a", Descr: fields(
			Field{Name: "b", Descr: simple("<i2")},
			Field{Name: "c", Descr: simple("|u1"), Shape: []int{2, 2}},
		), Shape: []int{2}},
		Field{Name: "d", Descr: simple(">f4")},
		Field{Name: "", Descr: simple("|V3")},
	), Shape: []int{1, 2}}},
	{"empty sub-array shape", Header{Descr: fields(
		Field{Name: "x", Descr: simple("<f8"), Shape: []int{}},
	), Shape: []int{1}}},
	{"no fields", Header{Descr: fields(), Shape: []int{3}}},
	{"deepest nesting", Header{Descr: nested(15), Shape: []int{1}}},
	{"odd names", Header{Descr: fields(
		Field{Name: "it's", Descr: simple("<f8")},
		Field{Name: `both ' and "`, Descr: simple("<f8")},
		Field{Name: `back\slash`, Descr: simple("<f8")},
		Field{Name: "ctl\x00\t\n\r\x7f\u0085\u00a0\u2028", Descr: simple("<f8")},
		Field{Name: "é", Descr: simple("<f8")},
	)}},
	{"non-latin-1 name", Header{Descr: fields(Field{Name: "中", Descr: simple("<f8")}), Shape: []int{1}}},
	{"astral name", Header{Descr: fields(Field{Name: "\U0001F600\U000E0001", Descr: simple("<f8")})}},
	{"many fields", Header{Descr: manyFields(5000), Shape: []int{2}}},
}

func TestRoundTrip(t *testing.T) {
	for _, tt := range roundTripTests {
		for _, align := range []int{64, 4096} {
			b, err := tt.h.Encode(align)
			if err != nil {
				t.Errorf("%s: Encode(%d): %v", tt.name, align, err)
				continue
			}
			if len(b)%align != 0 || b[len(b)-1] != '\n' {
				t.Errorf("%s: Encode(%d): length %d, last byte %q", tt.name, align, len(b), b[len(b)-1])
			}
			// Read must stop at the end of the header.
			r := bytes.NewReader(append(b, "data"...))
			got, n, err := Read(r)
			if err != nil {
				t.Errorf("%s: Read(Encode(%d)): %v\nheader: %q", tt.name, align, err, b)
				continue
			}
			if n != len(b) || r.Len() != 4 {
				t.Errorf("%s: Read(Encode(%d)): n = %d, %d left; want %d, 4", tt.name, align, n, r.Len(), len(b))
			}
			if want := normalize(tt.h); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: Read(Encode(%d)) =\n%#v\nwant\n%#v", tt.name, align, got, want)
			}
		}
	}
}

func TestEncodeFormat(t *testing.T) {
	tests := []struct {
		h    Header
		dict string
	}{
		{Header{Descr: simple("<f8"), Shape: []int{3, 4}},
			"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"},
		{Header{Descr: simple("|b1"), Fortran: true, Shape: []int{3}},
			"{'descr': '|b1', 'fortran_order': True, 'shape': (3,), }"},
		{Header{Descr: simple("<M8[ns]")},
			"{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (), }"},
		{Header{Descr: fields(Field{Name: "x", Descr: simple("<f8")}, Field{Name: "y", Descr: simple("<i4"), Shape: []int{3}}), Shape: []int{0}},
			"{'descr': [('x', '<f8'), ('y', '<i4', (3,))], 'fortran_order': False, 'shape': (0,), }"},
	}
	for _, tt := range tests {
		b, err := tt.h.Encode(64)
		if err != nil {
			t.Fatalf("Encode(%v): %v", tt.h, err)
		}
		want := "\x93NUMPY\x01\x00" + string(binary.LittleEndian.AppendUint16(nil, uint16(len(b)-10))) + tt.dict
		want += strings.Repeat(" ", len(b)-len(want)-1) + "\n"
		if string(b) != want {
			t.Errorf("Encode(%v) =\n%q\nwant\n%q", tt.h, b, want)
		}
	}
}

func TestEncodeVersion(t *testing.T) {
	tests := []struct {
		name  string
		h     Header
		major byte
	}{
		{"small", Header{Descr: simple("<f8")}, 1},
		{"latin-1 name", Header{Descr: fields(Field{Name: "é", Descr: simple("<f8")})}, 1},
		{"escaped non-printable", Header{Descr: fields(Field{Name: "\u2028", Descr: simple("<f8")})}, 1},
		{"non-latin-1 name", Header{Descr: fields(Field{Name: "中", Descr: simple("<f8")})}, 3},
		{"many fields", Header{Descr: manyFields(5000)}, 2},
		{"many non-latin-1 fields", Header{Descr: fields(append(manyFields(5000).Fields, Field{Name: "中", Descr: simple("<f8")})...)}, 3},
	}
	for _, tt := range tests {
		b, err := tt.h.Encode(64)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if b[6] != tt.major || b[7] != 0 {
			t.Errorf("%s: version %d.%d, want %d.0", tt.name, b[6], b[7], tt.major)
		}
	}
	// Versions 1.0 and 2.0 are latin-1, not UTF-8.
	b, _ := tests[1].h.Encode(64)
	if !bytes.Contains(b, []byte("[('\xe9', '<f8')]")) {
		t.Errorf("latin-1 name not encoded as latin-1: %q", b)
	}
}

// TestEncodeVersionBoundary checks that version 2.0 is used exactly when
// the padded dict no longer fits version 1.0's 16-bit length.
func TestEncodeVersionBoundary(t *testing.T) {
	for _, align := range []int{64, 4096} {
		seen := map[byte]bool{}
		for n := 65440; n < 65490; n++ {
			h := Header{Descr: fields(Field{Name: strings.Repeat("a", n), Descr: simple("<f8")})}
			b, err := h.Encode(align)
			if err != nil {
				t.Fatal(err)
			}
			dict := len(h.appendDict(nil))
			fitsV1 := padded(10, dict, align)-10 <= 0xffff
			if (b[6] == 1) != fitsV1 || (b[6] == 2) == fitsV1 {
				t.Fatalf("align %d, %d-byte dict: version %d, fits v1.0 %v", align, dict, b[6], fitsV1)
			}
			if _, m, err := Read(bytes.NewReader(b)); err != nil || m != len(b) {
				t.Fatalf("align %d, %d-byte dict: Read = %d, %v", align, dict, m, err)
			}
			seen[b[6]] = true
		}
		if !seen[1] || !seen[2] {
			t.Errorf("align %d: versions seen %v, want 1 and 2", align, seen)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		err  string
	}{
		{"empty descr", Header{}, "empty descr"},
		{"empty field descr", Header{Descr: fields(Field{Name: "x"})}, "empty descr"},
		{"type and fields", Header{Descr: Descr{Type: "<f8", Fields: []Field{}}}, "both"},
		{"negative dim", Header{Descr: simple("<f8"), Shape: []int{3, -1}}, "negative dimension -1"},
		{"too many dims", Header{Descr: simple("<f8"), Shape: make([]int, MaxDims+1)}, "33 dimensions"},
		{"dim too big", Header{Descr: simple("<f8"), Shape: []int{maxDim + 1}}, "exceeds"},
		{"negative field dim", Header{Descr: fields(Field{Name: "x", Descr: simple("<f8"), Shape: []int{-2}})}, "negative dimension -2"},
		{"field too many dims", Header{Descr: fields(Field{Name: "x", Descr: simple("<f8"), Shape: make([]int, MaxDims+1)})}, "33 dimensions"},
		{"invalid UTF-8 name", Header{Descr: fields(Field{Name: "\xff", Descr: simple("<f8")})}, "UTF-8"},
		{"invalid UTF-8 type", Header{Descr: simple("<f\xff")}, "UTF-8"},
		{"too deep", Header{Descr: nested(16)}, "nested too deeply"},
		{"too long", Header{Descr: simple(strings.Repeat("x", MaxHeaderLen))}, "too long"},
	}
	for _, tt := range tests {
		b, err := tt.h.Encode(64)
		if err == nil || !strings.HasPrefix(err.Error(), "npy: ") || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: Encode = %q, %v; want error containing %q", tt.name, b, err, tt.err)
		}
	}
	if _, err := (Header{Descr: simple("<f8")}).Encode(1 << 30); !errors.Is(err, errTooLong) {
		t.Errorf("Encode(1<<30) error = %v, want errTooLong", err)
	}
}

func TestEncodeBadAlign(t *testing.T) {
	for _, align := range []int{0, -64, 32, 100, 65} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Encode(%d) did not panic", align)
				}
			}()
			Header{Descr: simple("<f8")}.Encode(align)
		}()
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		d       Descr
		literal string
		str     string
	}{
		{simple("<f8"), "'<f8'", "<f8"},
		{simple("<M8[ns]"), "'<M8[ns]'", "<M8[ns]"},
		{fields(), "[]", "[]"},
		{fields(Field{Name: "x", Descr: simple("<f8")}, Field{Name: "y", Descr: simple("<i4"), Shape: []int{3}}),
			"[('x', '<f8'), ('y', '<i4', (3,))]", ""},
		{fields(Field{Name: "a", Descr: fields(Field{Name: "b", Descr: simple("|u1"), Shape: []int{2, 3}})}),
			"[('a', [('b', '|u1', (2, 3))])]", ""},
		{fields(Field{Name: "it's", Descr: simple("<f8")}), `[("it's", '<f8')]`, ""},
		{fields(Field{Name: `'"\`, Descr: simple("<f8")}), `[('\'"\\', '<f8')]`, ""},
		{fields(Field{Name: "a\x00\t\x80\u00a0é中\u2028\U000E0001", Descr: simple("<f8")}),
			`[('a\x00\t\x80\xa0é中\u2028\U000e0001', '<f8')]`, ""},
		{fields(Field{Name: "\xff", Descr: simple("<f8")}), `[('\xff', '<f8')]`, ""},
	}
	for _, tt := range tests {
		if got := tt.d.Literal(); got != tt.literal {
			t.Errorf("Literal() = %s, want %s", got, tt.literal)
		}
		if tt.str == "" {
			tt.str = tt.literal
		}
		if got := tt.d.String(); got != tt.str {
			t.Errorf("String() = %s, want %s", got, tt.str)
		}
	}
}

// header returns a header with the given version and dict, unpadded.
func header(major byte, dict string) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	return append(b, dict...)
}

func TestReadSyntax(t *testing.T) {
	f8 := Header{Descr: simple("<f8"), Shape: []int{3}}
	tests := []struct {
		name  string
		major byte
		dict  string
		want  Header
	}{
		{"numpy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }   \n", f8},
		{"no trailing comma", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", f8},
		{"any order", 1, "{'shape': (3,), 'descr': '<f8', 'fortran_order': False}", f8},
		{"double quotes", 1, `{"descr": "<f8", "fortran_order": False, "shape": (3,)}`, f8},
		{"whitespace", 1, "\n \t{ 'descr' :'<f8' ,\n'fortran_order'\t:False,\r\n'shape':( 3 , ) , } \f\n\n", f8},
		{"python 2 long", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }", f8},
		{"parenthesized", 1, "{'descr': ('<f8'), 'fortran_order': (False), 'shape': ((3,)), }", f8},
		{"escapes", 1, `{'descr': '\x3cf\u0038', 'fortran_order': False, 'shape': (3,), }`, f8},
		{"no newline", 2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8},
		{"version 3", 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f8},
		{"0-d", 1, "{'descr': '<f8', 'fortran_order': True, 'shape': (), }",
			Header{Descr: simple("<f8"), Fortran: true, Shape: []int{}}},
		{"2-d", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
			Header{Descr: simple("<f8"), Shape: []int{2, 3}}},
		{"max int", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 0), }",
			Header{Descr: simple("<f8"), Shape: []int{1 << 62, 0}}},
		{"empty fields", 1, "{'descr': [], 'fortran_order': False, 'shape': (3,), }",
			Header{Descr: fields(), Shape: []int{3}}},
		{"fields", 1, "{'descr': [('a', '<i4', ()), ('b', [('c', '|u1', (2, 3))]), ('', '|V4'),], 'fortran_order': False, 'shape': (), }",
			Header{Descr: fields(
				Field{Name: "a", Descr: simple("<i4")},
				Field{Name: "b", Descr: fields(Field{Name: "c", Descr: simple("|u1"), Shape: []int{2, 3}})},
				Field{Name: "", Descr: simple("|V4")},
			), Shape: []int{}}},
		{"latin-1", 1, "{'descr': [('\xe9\x80', '<f8')], 'fortran_order': False, 'shape': (), }",
			Header{Descr: fields(Field{Name: "é\u0080", Descr: simple("<f8")}), Shape: []int{}}},
		{"utf-8", 3, "{'descr': [('中', '<f8')], 'fortran_order': False, 'shape': (), }",
			Header{Descr: fields(Field{Name: "中", Descr: simple("<f8")}), Shape: []int{}}},
	}
	for _, tt := range tests {
		b := header(tt.major, tt.dict)
		got, n, err := Read(bytes.NewReader(b))
		if err != nil || n != len(b) || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Read = %#v, %d, %v; want %#v, %d", tt.name, got, n, err, tt.want, len(b))
		}
	}
}

func TestReadErrors(t *testing.T) {
	dict := func(descr, fortran, shape string) string {
		return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	deep := strings.Repeat("[('a', ", 20) + "'<f8'" + strings.Repeat(")]", 20)
	tests := []struct {
		name string
		b    []byte
		err  string
	}{
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x00\x00"), "npy: bad magic"},
		{"not npy", []byte("PK\x03\x04 this is a zip file"), "npy: bad magic"},
		{"version 4.0", header(4, dict("'<f8'", "False", "()")), "npy: unsupported version 4.0"},
		{"version 0.0", header(0, dict("'<f8'", "False", "()")), "npy: unsupported version 0.0"},
		{"version 1.1", []byte("\x93NUMPY\x01\x01\x00\x00"), "npy: unsupported version 1.1"},
		{"huge length", []byte("\x93NUMPY\x02\x00\x80\x84\x1e\x00"), "npy: header length 2000000 exceeds 1048576"},
		{"max length", []byte("\x93NUMPY\x03\x00\xff\xff\xff\xff"), "npy: header length 4294967295 exceeds"},
		{"empty dict text", header(1, ""), "unexpected end of header"},
		{"blank dict text", header(1, "    \n"), "unexpected end of header"},
		{"missing shape", header(1, "{'descr': '<f8', 'fortran_order': False}"), "npy: header: missing key 'shape'"},
		{"missing descr", header(1, "{'shape': (), 'fortran_order': False}"), "npy: header: missing key 'descr'"},
		{"empty dict", header(1, "{}"), "missing key 'descr'"},
		{"extra key", header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), 'x': 1}"), "npy: header: unexpected key 'x'"},
		{"duplicate key", header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), 'shape': ()}"), "npy: header: duplicate key 'shape'"},
		{"key not string", header(1, "{1: 2}"), "key is an int"},
		{"not a dict", header(1, "[('descr', '<f8')]"), "got a list, want a dict"},
		{"garbage", header(1, "hello world"), "unexpected name 'hello'"},
		{"garbage bytes", header(1, "\x00\x01\x02"), "unexpected"},
		{"trailing garbage", header(1, dict("'<f8'", "False", "()")+" x"), "after the literal"},
		{"two dicts", header(1, dict("'<f8'", "False", "()")+dict("'<f8'", "False", "()")), "after the literal"},
		{"missing colon", header(1, "{'descr' '<f8'}"), "expected ':'"},
		{"missing comma", header(1, "{'descr': '<f8' 'shape': ()}"), "expected ',' or '}'"},
		{"unclosed dict", header(1, "{'descr': '<f8', "), "unexpected end of header"},
		{"None", header(1, dict("None", "False", "()")), "unexpected name 'None'"},
		{"negative dim", header(1, dict("'<f8'", "False", "(3, -1)")), "shape has negative dimension -1"},
		{"lone minus", header(1, dict("'<f8'", "False", "(-)")), "expected a digit"},
		{"too many dims", header(1, dict("'<f8'", "False", "("+strings.Repeat("1, ", 33)+")")), "33 dimensions, more than 32"},
		{"int overflow", header(1, dict("'<f8'", "False", "(99999999999999999999999999,)")), "integer too large"},
		{"int over 1<<62", header(1, dict("'<f8'", "False", "(4611686018427387905,)")), "integer too large"},
		{"leading zero", header(1, dict("'<f8'", "False", "(07,)")), "leading zero"},
		{"float dim", header(1, dict("'<f8'", "False", "(3.0,)")), "expected ',' or ')'"},
		{"shape not tuple", header(1, dict("'<f8'", "False", "[3]")), "shape is a list, want a tuple"},
		{"shape int", header(1, dict("'<f8'", "False", "(3)")), "shape is an int, want a tuple"},
		{"shape of bools", header(1, dict("'<f8'", "False", "(True,)")), "shape has a bool"},
		{"fortran int", header(1, dict("'<f8'", "0", "()")), "fortran_order is an int, want a bool"},
		{"empty descr", header(1, dict("''", "False", "()")), "empty descr"},
		{"descr int", header(1, dict("8", "False", "()")), "descr is an int"},
		{"descr tuple", header(1, dict("('<f8', (3,))", "False", "()")), "descr is a tuple"},
		{"field title", header(1, dict("[(('title', 'x'), '<f8')]", "False", "()")), "field titles"},
		{"field name int", header(1, dict("[(1, '<f8')]", "False", "()")), "field name is an int"},
		{"field 1-tuple", header(1, dict("[('x',)]", "False", "()")), "(name, descr)"},
		{"field 4-tuple", header(1, dict("[('x', '<f8', (1,), 1)]", "False", "()")), "(name, descr)"},
		{"field shape int", header(1, dict("[('x', '<f8', 3)]", "False", "()")), "field 'x' shape is an int"},
		{"field negative dim", header(1, dict("[('x', '<f8', (-3,))]", "False", "()")), "field 'x' shape has negative dimension -3"},
		{"empty field descr", header(1, dict("[('x', '')]", "False", "()")), "empty descr"},
		{"deep descr", header(1, dict(deep, "False", "()")), "nested more than 32 levels deep"},
		{"deep brackets", header(1, strings.Repeat("[", 100000)), "nested more than 32 levels deep"},
		{"deep parens", header(1, dict("'<f8'", "False", strings.Repeat("(", 33)+"3,"+strings.Repeat(")", 33))), "nested more than 32"},
		{"unterminated string", header(1, "{'descr': '<f8, 'fortran_order': False, 'shape': (), }"), "expected ',' or '}', found 'f'"},
		{"unterminated string at end", header(1, "{'descr': '<f8"), "offset 10: unterminated string"},
		{"unterminated escape", header(1, `{'descr': '<f8\`), "unterminated string"},
		{"newline in string", header(1, "{'descr': '<f\n8'}"), `'\n' in string`},
		{"NUL in string", header(1, "{'descr': '<f\x008'}"), `'\x00' in string`},
		{"bad escape", header(1, `{'descr': '\q'}`), "unsupported escape \\q"},
		{"octal escape", header(1, `{'descr': '\0'}`), "unsupported escape \\0"},
		{"short hex escape", header(1, `{'descr': '\x4'}`), "bad \\x escape"},
		{"truncated hex escape", header(1, `{'descr': '\u00`), "unterminated string"},
		{"surrogate escape", header(1, `{'descr': '\ud800'}`), "invalid code point U+D800"},
		{"escape too big", header(1, `{'descr': '\U00110000'}`), "invalid code point"},
		{"escape way too big", header(1, `{'descr': '\Uffffffff'}`), "invalid code point"},
		{"bad UTF-8 in v3", header(3, "{'descr': '\xff'}"), "not valid UTF-8"},
		{"non-ASCII name", header(3, "{'descr': é}"), "unexpected 'é'"},
	}
	for _, tt := range tests {
		_, n, err := Read(bytes.NewReader(tt.b))
		if err == nil || !strings.Contains(err.Error(), tt.err) || n != 0 {
			t.Errorf("%s: Read(%q) = %d, %v; want error containing %q", tt.name, tt.b, n, err, tt.err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "npy: ") {
			t.Errorf("%s: error %q lacks the npy: prefix", tt.name, err)
		}
	}
}

func TestReadTruncated(t *testing.T) {
	for _, h := range []Header{
		{Descr: simple("<f8"), Shape: []int{3}},
		{Descr: manyFields(5000), Shape: []int{3}}, // version 2.0
		{Descr: fields(Field{Name: "中", Descr: simple("<f8")})},
	} {
		b, err := h.Encode(64)
		if err != nil {
			t.Fatal(err)
		}
		// Every prefix of the first 256 bytes, then a sample, as each
		// Read allocates the whole dict.
		lens := []int{len(b) - 1}
		for i := 0; i < len(b); i += 1 + i/256*250 {
			lens = append(lens, i)
		}
		for _, i := range lens {
			_, _, err := Read(bytes.NewReader(b[:i]))
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Read of %d of %d bytes: %v, want io.ErrUnexpectedEOF", i, len(b), err)
			}
		}
	}
}

// errReader fails after its data.
type errReader struct{ data []byte }

var errBroken = errors.New("broken pipe")

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errBroken
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	b, _ := Header{Descr: simple("<f8")}.Encode(64)
	_, _, err := Read(&errReader{b[:20]})
	if !errors.Is(err, errBroken) || !strings.HasPrefix(err.Error(), "npy: ") {
		t.Errorf("Read = %v, want wrapped %v", err, errBroken)
	}
}
