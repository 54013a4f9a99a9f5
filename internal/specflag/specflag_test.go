package specflag

import (
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
)

// The flags parse what NumPy users type, and only --dtype with --shape
// describes a raw block.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		raw   bool
		usage bool // a usage error
		spec  ndshm.Spec
	}{
		{nil, false, false, ndshm.Spec{}},
		{[]string{"--dtype", "f8", "--shape", "(3, 4)", "--order", "f"}, true, false,
			ndshm.Spec{DType: ndshm.Float64, Shape: []int{3, 4}, Fortran: true}},
		{[]string{"--dtype", "<i4", "--shape", ""}, true, false, ndshm.Spec{DType: ndshm.Int32, Shape: []int{}}},
		{[]string{"--dtype", "f8"}, false, true, ndshm.Spec{}},
		{[]string{"--shape", "3"}, false, true, ndshm.Spec{}},
		{[]string{"--order", "C"}, false, true, ndshm.Spec{}},
		{[]string{"--dtype", "f9"}, false, true, ndshm.Spec{}},
		{[]string{"--order", "X"}, false, true, ndshm.Spec{}},
		{[]string{"--shape", "3,-1"}, false, true, ndshm.Spec{}},
	} {
		f := cmdflag.New(io.Discard, "test", "test", "")
		var s Flags
		s.RegisterRead(f)
		_, err := f.Parse(tc.args)
		raw := false
		if err == nil {
			raw, err = s.Raw(f)
		}
		var ue *cmdflag.UsageError
		if tc.usage != errors.As(err, &ue) || tc.usage == (err == nil) || raw != tc.raw {
			t.Errorf("%q: raw %v, %v; want raw %v, usage error %v", tc.args, raw, err, tc.raw, tc.usage)
			continue
		}
		if got := s.Spec(); raw && (got.DType.String() != tc.spec.DType.String() || !slices.Equal(got.Shape, tc.spec.Shape) || got.Fortran != tc.spec.Fortran) {
			t.Errorf("%q: spec %v, want %v", tc.args, got, tc.spec)
		}
	}
}

func TestMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" for an error
	}{
		{"0640", "0640"}, {"640", "0640"}, {"0", "0"}, {"777", "0777"},
		{"1777", ""}, {"0x1f", ""}, {"8", ""}, {"-1", ""}, {"", ""},
	} {
		var m Mode
		err := m.Set(tc.in)
		if tc.want == "" && err == nil || tc.want != "" && (err != nil || m.String() != tc.want || len(m.Opts()) != 1) {
			t.Errorf("Set(%q): %v, %s; want %q", tc.in, err, m.String(), tc.want)
		}
	}
	var unset Mode
	if unset.String() != "0600" || unset.Opts() != nil || unset.Perm() != 0 || unset.Apply(nil) != nil {
		t.Errorf("an unset mode is not the library's default")
	}
}
