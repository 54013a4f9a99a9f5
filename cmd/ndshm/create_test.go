package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/internal/elem"
)

func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		dtype, shape, fill string // fill "" is no --fill
		fortran            bool
		dims               []int
		item               string // one element, hex, as stored
	}{
		{"f8", "3,4", "1.5", false, []int{3, 4}, "000000000000f83f"},
		{"float64", "(2, 3)", "", true, []int{2, 3}, "0000000000000000"},
		{">i4", "2", "1", false, []int{2}, "00000001"},
		{"<i2", "(5,)", "-2", false, []int{5}, "feff"},
		{"u1", "7", "0xff", false, []int{7}, "ff"},
		{"u8", "1", "18446744073709551615", false, []int{1}, "ffffffffffffffff"},
		{"?", "2,2", "true", false, []int{2, 2}, "01"},
		{"f4", "3", "-0.5", false, []int{3}, "000000bf"},
		{"f2", "3", "0.1", false, []int{3}, "662e"},
		{"c16", "2", "1+2i", false, []int{2}, "000000000000f03f0000000000000040"},
		{">c8", "2", "(1+2j)", false, []int{2}, "3f80000040000000"},
		{"S3", "2", "ab", false, []int{2}, "616200"},
		{"M8[s]", "2", "NaT", false, []int{2}, "0000000000000080"},
		{"f8", "", "2", false, []int{}, "0000000000000040"},
		{"i8", "0,5", "3", false, []int{0, 5}, ""},
	} {
		name := newName(t)
		args := []string{"create", name, "--dtype", tc.dtype, "--shape", tc.shape}
		if tc.fill != "" {
			args = append(args, "--fill", tc.fill)
		}
		if tc.fortran {
			args = append(args, "--order", "F")
		}
		if out := mustRun(t, args...); out != "" {
			t.Errorf("%q printed %q", args, out)
		}
		b, err := ndshm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := hex.DecodeString(tc.item)
		n := 1
		for _, d := range tc.dims {
			n *= d
		}
		s := b.Spec()
		if !slices.Equal(s.Shape, tc.dims) || s.Fortran != tc.fortran || !bytes.Equal(b.Bytes(), bytes.Repeat(want, n)) {
			t.Errorf("%q made %v holding %x, want %v holding %d × %s", args, s, b.Bytes(), tc.dims, n, tc.item)
		}
		if info, err := ndshm.Stat(name); err != nil || !info.Persistent {
			t.Errorf("%q: persistent %v, %v", args, info.Persistent, err)
		}
		b.Close()
	}
}

func TestCreateJSON(t *testing.T) {
	name := newName(t)
	j := decodeJSON[describe.Block](t, mustRun(t, "create", name, "--json", "--dtype", "<u2", "--shape", "4,5", "--order", "F"))
	if j.Name != name || j.Kind != "array" || j.DType != "<u2" || !slices.Equal(j.Shape, []int{4, 5}) ||
		j.Order != "F" || j.SizeBytes != 40 || !j.Persistent || j.Created == nil {
		t.Errorf("create --json said %+v", j)
	}
}

func TestCreateErrors(t *testing.T) {
	name := newName(t)
	mustRun(t, "create", name, "--dtype", "f8", "--shape", "3")
	for _, tc := range []struct {
		args []string
		is   error
	}{
		{[]string{"create", name, "--dtype", "i4", "--shape", "1"}, fs.ErrExist},
		{[]string{"create", "a/b", "--dtype", "i4", "--shape", "1"}, nil},
		{[]string{"create", newName(t), "--dtype", "i4", "--shape", "1000000000,1000000000"}, nil},
	} {
		_, _, err := ndshmRun(t, tc.args...)
		if err == nil || isUsage(err) || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%q: got %v, want a failure (%v)", tc.args, err, tc.is)
		}
	}
	if got := mustRun(t, "stats", name); !strings.HasPrefix(got, "count 3  sum 0") {
		t.Errorf("a failed create changed %s: %s", name, got)
	}
}

func TestEncodeScalarErrors(t *testing.T) {
	for _, tc := range [][2]string{
		{"V8", "0"}, {"S2", "abc"}, {"u1", "-1"}, {"u1", "256"}, {"i4", "1.5"},
		{"f4", "1e39"}, {"c8", "x"}, {"?", "2"}, {"M8[ns]", "soon"},
	} {
		dt, err := ndshm.ParseDType(tc[0])
		if err != nil {
			t.Fatal(err)
		}
		if item, err := elem.Parse(dt, tc[1]); err == nil {
			t.Errorf("elem.Parse(%s, %q) = %x, want an error", dt, tc[1], item)
		}
	}
}

// TestCreateInterrupted checks that a create interrupted while filling
// leaves no block behind.
func TestCreateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := newName(t)
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"create", name, "--dtype", "f8", "--shape", "1000", "--fill", "1"}, nil, &out, &errOut)
	if !errors.Is(err, context.Canceled) || exists(name) {
		t.Errorf("interrupted create: %v; block exists %v", err, exists(name))
	}
}
