package human

import (
	"slices"
	"strings"
	"testing"
)

func TestParseShape(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int // nil: an error
	}{
		{"3,4", []int{3, 4}},
		{"7", []int{7}},
		{"0,5", []int{0, 5}},
		{"", []int{}},
		{"()", []int{}},
		{" ( ) ", []int{}},
		{"(5,)", []int{5}},
		{"5,", []int{5}},
		{"(3, 4)", []int{3, 4}},
		{" 007 , 1 ", []int{7, 1}},
		{strings.Repeat("1,", 31) + "1", slices.Repeat([]int{1}, 32)},
		{strings.Repeat("1,", 32) + "1", nil},
		{"3,-4", nil},
		{"-0", nil},
		{"+3", nil},
		{"3,,4", nil},
		{",", nil},
		{"(,)", nil},
		{"5,,", nil},
		{"(3,4", nil},
		{"3,4)", nil},
		{"3.0", nil},
		{"0x10", nil},
		{"1_000", nil},
		{"3 4", nil},
		{"99999999999999999999", nil},
		{"a", nil},
	} {
		got, err := ParseShape(tc.in)
		if tc.want == nil && err == nil || tc.want != nil && (err != nil || !slices.Equal(got, tc.want) || got == nil) {
			t.Errorf("ParseShape(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := Shape([]int{5}) + Shape(nil) + Shape([]int{3, 4}); s != "(5,)()(3, 4)" {
		t.Errorf("Shape: %q", s)
	}
}

// FuzzParseShape checks that ParseShape never panics, that what it
// accepts is a valid shape, and that it reads back its own output.
func FuzzParseShape(f *testing.F) {
	for _, s := range []string{"3,4", "", "()", "(5,)", "3,-1", "1,,2", " 3 , 4 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dims, err := ParseShape(s)
		if err != nil {
			return
		}
		if dims == nil || len(dims) > maxDims || slices.ContainsFunc(dims, func(d int) bool { return d < 0 }) {
			t.Fatalf("ParseShape(%q) = %v", s, dims)
		}
		back := FormatShape(dims)
		again, err := ParseShape(back)
		if err != nil || !slices.Equal(again, dims) {
			t.Fatalf("ParseShape(%q) = %v, formats as %q, which parses as %v, %v", s, dims, back, again, err)
		}
		if tuple, err := ParseShape(Shape(dims)); err != nil || !slices.Equal(tuple, dims) {
			t.Fatalf("%v as a tuple %q parses as %v, %v", dims, Shape(dims), tuple, err)
		}
	})
}
