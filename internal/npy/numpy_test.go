package npy

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// These tests check compatibility against NumPy itself, through the system
// Python, which is where NumPy is installed on the development machines.
const python = "/usr/bin/python3"

// runNumPy runs script under python with in as JSON on stdin and decodes
// its JSON stdout into out. Without NumPy the test is skipped, unless
// running under CI, where a missing NumPy must not pass silently.
func runNumPy(t *testing.T, script string, in, out any) {
	t.Helper()
	if b, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s cannot import numpy: %v\n%s", python, err, b)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("python output: %v\n%s", err, stdout)
	}
}

// writeScript saves a zero-filled array for each case with NumPy and
// returns the file contents.
const writeScript = `
import base64, io, json, sys, warnings
import numpy as np
from numpy.lib import format
warnings.simplefilter('ignore')  # "Stored array in format 2.0/3.0"
out = []
for c in json.load(sys.stdin):
    a = np.zeros(eval(c['shape']), dtype=np.dtype(eval(c['dtype'])), order=c['order'])
    f = io.BytesIO()
    format.write_array(f, a, version=eval(c['version']))
    out.append({'npy': base64.b64encode(f.getvalue()).decode(),
                'nbytes': -1 if a.dtype.hasobject else a.nbytes})
json.dump(out, sys.stdout)
`

type numpyWrite struct {
	Dtype   string `json:"dtype"`   // Python expression
	Shape   string `json:"shape"`   // Python expression
	Order   string `json:"order"`   // "C" or "F"
	Version string `json:"version"` // Python expression: None or (major, minor)
	major   byte
	want    Header
}

func TestReadNumPy(t *testing.T) {
	var f8 = simple("<f8")
	xy := fields(Field{Name: "x", Descr: f8}, Field{Name: "y", Descr: simple("<i4"), Shape: []int{3}})
	cases := []numpyWrite{
		{"'<f8'", "(3, 4)", "C", "None", 1, Header{Descr: f8, Shape: []int{3, 4}}},
		{"'>i4'", "(2, 3)", "F", "None", 1, Header{Descr: simple(">i4"), Fortran: true, Shape: []int{2, 3}}},
		{"'?'", "()", "C", "None", 1, Header{Descr: simple("|b1"), Shape: []int{}}},
		{"'M8[ns]'", "(0,)", "C", "None", 1, Header{Descr: simple("<M8[ns]"), Shape: []int{0}}},
		{"'>m8[s]'", "(2, 0)", "C", "None", 1, Header{Descr: simple(">m8[s]"), Shape: []int{2, 0}}},
		{"'S5'", "(2,)", "C", "None", 1, Header{Descr: simple("|S5"), Shape: []int{2}}},
		{"'U3'", "(2,)", "C", "None", 1, Header{Descr: simple("<U3"), Shape: []int{2}}},
		{"'V8'", "(2,)", "C", "None", 1, Header{Descr: simple("|V8"), Shape: []int{2}}},
		{"'c16'", "(1,)", "C", "None", 1, Header{Descr: simple("<c16"), Shape: []int{1}}},
		{"'u1'", "(1,) * 32", "C", "None", 1, Header{Descr: simple("|u1"), Shape: make32(1)}},
		{"object", "(2,)", "C", "None", 1, Header{Descr: simple("|O"), Shape: []int{2}}},
		{"'<f8'", "(3,)", "C", "(2, 0)", 2, Header{Descr: f8, Shape: []int{3}}},
		{"'<f8'", "(3,)", "C", "(3, 0)", 3, Header{Descr: f8, Shape: []int{3}}},
		{"[('x', '<f8'), ('y', '<i4', (3,))]", "(4,)", "C", "None", 1, Header{Descr: xy, Shape: []int{4}}},
		{"[('x', '<f8'), ('y', '<i4', (3,))]", "(4, 5)", "F", "(2, 0)", 2, Header{Descr: xy, Fortran: true, Shape: []int{4, 5}}},
		{"[('a', [('b', '<i2'), ('c', 'u1', (2, 2))], (2,)), ('d', '>f4')]", "()", "C", "None", 1,
			Header{Descr: fields(
				Field{Name: "a", Descr: fields(
					Field{Name: "b", Descr: simple("<i2")},
					Field{Name: "c", Descr: simple("|u1"), Shape: []int{2, 2}},
				), Shape: []int{2}},
				Field{Name: "d", Descr: simple(">f4")},
			), Shape: []int{}}},
		{"np.dtype([('x', 'u1'), ('y', '<f8')], align=True)", "(1,)", "C", "None", 1,
			Header{Descr: fields(
				Field{Name: "x", Descr: simple("|u1")},
				Field{Name: "", Descr: simple("|V7")},
				Field{Name: "y", Descr: f8},
			), Shape: []int{1}}},
		{"[]", "(3,)", "C", "None", 1, Header{Descr: fields(), Shape: []int{3}}},
		{`[("it's", '<f8'), ('\\', '<f8'), ('\xe9', '<f8')]`, "(1,)", "C", "None", 1,
			Header{Descr: fields(Field{Name: "it's", Descr: f8}, Field{Name: `\`, Descr: f8}, Field{Name: "é", Descr: f8}), Shape: []int{1}}},
		{`[('\u4e2d', '<f8')]`, "(1,)", "C", "None", 3, Header{Descr: fields(Field{Name: "中", Descr: f8}), Shape: []int{1}}},
		{"[('f%d' % i, '<f4') for i in range(5000)]", "(2,)", "C", "None", 2, Header{Descr: manyFields(5000), Shape: []int{2}}},
	}
	var results []struct {
		NPY    string `json:"npy"`
		NBytes int    `json:"nbytes"`
	}
	runNumPy(t, writeScript, cases, &results)
	for i, c := range cases {
		name := fmt.Sprintf("dtype %.40s shape %s order %s version %s", c.Dtype, c.Shape, c.Order, c.Version)
		b, err := base64.StdEncoding.DecodeString(results[i].NPY)
		if err != nil {
			t.Fatal(err)
		}
		h, n, err := Read(bytes.NewReader(b))
		switch {
		case err != nil:
			t.Errorf("%s: %v\nheader: %q", name, err, b[:min(len(b), 200)])
		case b[6] != c.major:
			t.Errorf("%s: NumPy wrote version %d, want %d", name, b[6], c.major)
		case n%64 != 0 || results[i].NBytes >= 0 && n+results[i].NBytes != len(b):
			t.Errorf("%s: data offset %d in %d bytes with %d of data", name, n, len(b), results[i].NBytes)
		case !reflect.DeepEqual(h, c.want):
			t.Errorf("%s: Read =\n%v\nwant\n%v", name, h, c.want)
		}
	}
}

func make32(n int) []int {
	s := make([]int, 32)
	for i := range s {
		s[i] = n
	}
	return s
}

// loadScript reads each file's header and data with NumPy, both with
// np.load and with a memory map, as ndshm's users will.
const loadScript = `
import json, sys
import numpy as np
from numpy.lib import format
out = []
for c in json.load(sys.stdin):
    with open(c['path'], 'rb') as f:
        version = format.read_magic(f)
        # The default max_header_size (10000) refuses big structured dtypes.
        shape, fortran, dtype = format._read_array_header(f, version, max_header_size=1 << 30)
        offset = f.tell()
    a = np.load(c['path'], allow_pickle=False, max_header_size=1 << 30)
    data = a.tobytes(order='A').hex()
    if a.nbytes > 0:
        m = np.load(c['path'], mmap_mode='r', max_header_size=1 << 30)
        assert m.tobytes(order='A').hex() == data and m.shape == a.shape
    out.append({'version': version[0], 'descr': repr(format.dtype_to_descr(dtype)),
                'shape': list(shape), 'fortran': fortran, 'offset': offset, 'data': data,
                'load_descr': repr(format.dtype_to_descr(a.dtype))})
json.dump(out, sys.stdout)
`

func TestNumPyLoad(t *testing.T) {
	f8 := simple("<f8")
	xy := fields(Field{Name: "x", Descr: f8}, Field{Name: "y", Descr: simple("<i4"), Shape: []int{3}})
	tests := []struct {
		h        Header
		align    int
		itemsize int
		major    byte
	}{
		{Header{Descr: f8, Shape: []int{3, 4}}, 64, 8, 1},
		{Header{Descr: f8, Shape: []int{3, 4}, Fortran: true}, 4096, 8, 1},
		{Header{Descr: simple("|b1"), Shape: []int{}}, 64, 1, 1},
		{Header{Descr: simple(">i2"), Shape: []int{0, 5}}, 4096, 2, 1},
		{Header{Descr: simple("|u1"), Shape: make32(1)}, 64, 1, 1},
		{Header{Descr: simple("<M8[ns]"), Shape: []int{2}}, 64, 8, 1},
		{Header{Descr: simple("|S3"), Shape: []int{2}}, 64, 3, 1},
		{Header{Descr: xy, Shape: []int{2, 3}, Fortran: true}, 64, 20, 1},
		{Header{Descr: fields(
			Field{Name: "a", Descr: xy, Shape: []int{2}},
			Field{Name: "", Descr: simple("|V4")},
			Field{Name: "b", Descr: simple(">u2")},
		), Shape: []int{3}}, 4096, 46, 1},
		{Header{Descr: fields(), Shape: []int{3}}, 64, 0, 1},
		{Header{Descr: fields(Field{Name: "it's é", Descr: f8}, Field{Name: "a\\b\x01\u00a0", Descr: f8}), Shape: []int{1}}, 64, 16, 1},
		{Header{Descr: fields(Field{Name: "中", Descr: f8}), Shape: []int{2}}, 64, 8, 3},
		{Header{Descr: manyFields(5000), Shape: []int{2}}, 4096, 20000, 2},
	}
	type loadCase struct {
		Path string `json:"path"`
	}
	dir := t.TempDir()
	cases := make([]loadCase, len(tests))
	datas := make([][]byte, len(tests))
	hdrLens := make([]int, len(tests))
	for i, tt := range tests {
		b, err := tt.h.Encode(tt.align)
		if err != nil {
			t.Fatal(err)
		}
		n := tt.itemsize
		for _, d := range tt.h.Shape {
			n *= d
		}
		data := make([]byte, n)
		for j := range data {
			data[j] = byte(j*7 + 1)
		}
		datas[i], hdrLens[i] = data, len(b)
		// Trailing bytes, like an ndshm footer, must not bother NumPy.
		b = append(append(b, data...), make([]byte, 4096)...)
		cases[i].Path = filepath.Join(dir, fmt.Sprintf("%d.npy", i))
		if err := os.WriteFile(cases[i].Path, b, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	var results []struct {
		Version int    `json:"version"`
		Descr   string `json:"descr"`
		Shape   []int  `json:"shape"`
		Fortran bool   `json:"fortran"`
		Offset  int    `json:"offset"`
		Data    string `json:"data"`
		Load    string `json:"load_descr"`
	}
	runNumPy(t, loadScript, cases, &results)
	for i, tt := range tests {
		r := results[i]
		name := fmt.Sprintf("%.60s", tt.h.Descr.String())
		if r.Version != int(tt.major) || r.Offset != hdrLens[i] {
			t.Errorf("%s: NumPy read version %d, offset %d; want %d, %d", name, r.Version, r.Offset, tt.major, hdrLens[i])
		}
		if r.Descr != tt.h.Descr.Literal() || !reflect.DeepEqual(r.Shape, tt.h.Shape) || r.Fortran != tt.h.Fortran {
			t.Errorf("%s: NumPy read descr %.80s shape %v fortran %v", name, r.Descr, r.Shape, r.Fortran)
		}
		if r.Data != hex.EncodeToString(datas[i]) {
			t.Errorf("%s: NumPy loaded data %.80s, want %.80s", name, r.Data, hex.EncodeToString(datas[i]))
		}
		if r.Load != r.Descr {
			t.Errorf("%s: np.load dtype %.80s", name, r.Load)
		}
	}
}
