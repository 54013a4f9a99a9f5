// Package specflag is the flags that describe a block on ndshm's command
// line: --dtype, --shape and --order, the array a new block holds or how
// to read a raw one, and --mode, the permission bits of a new block.
//
// Each value records whether it was given, since commands that read a
// block treat --dtype, --shape and --order as one description of a raw
// block. A bad value is a flag error, and so a usage error.
package specflag

import (
	"fmt"
	"strings"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/human"
)

// Flags are --dtype, --shape and --order: the array a new block holds,
// or, for commands that read a block, how to read a raw one (a file with
// no ndshm header, such as Python's SharedMemory makes).
type Flags struct {
	DType   DType
	Shape   Shape
	Order   Order
	Foreign bool // --allow-foreign, of commands that map a block

	// ReadOnly is set by commands that only read the block (stats,
	// reduce, save, inspect): they open it O_RDONLY and map it PROT_READ,
	// so read permission on the block is enough, as for cp or np.load.
	ReadOnly bool
}

// Register adds the flags to f; what says what they describe.
func (s *Flags) Register(f *cmdflag.Set, what string) {
	f.Var(&s.DType, "dtype", "the NumPy dtype `D` of "+what+", such as f8, <i4, uint8, complex128")
	f.Var(&s.Shape, "shape", "the shape `S` of "+what+": sizes such as 3,4 or (3, 4); '' for a scalar")
	f.Var(&s.Order, "order", "the memory order of "+what+", `C|F`: C row-major (default), F column-major")
}

// RegisterRead adds the flags of a command that maps an existing block:
// the spec of a raw block, and --allow-foreign.
func (s *Flags) RegisterRead(f *cmdflag.Set) {
	s.Register(f, "a raw block")
	f.BoolVar(&s.Foreign, "allow-foreign", false, "map a block another user owns (it could truncate it under us: SIGBUS)")
}

// OpenOpts are the options of opening a block that the flags ask for.
func (s *Flags) OpenOpts() []ndshm.Option {
	var opts []ndshm.Option
	if s.Foreign {
		opts = append(opts, ndshm.AllowForeign())
	}
	if s.ReadOnly {
		opts = append(opts, ndshm.ReadOnly())
	}
	return opts
}

// Raw reports whether the block is to be read raw, as the flags describe
// it: only with both --dtype and --shape. Other combinations are usage
// errors of f's command.
func (s *Flags) Raw(f *cmdflag.Set) (bool, error) {
	switch {
	case s.DType.set != s.Shape.set:
		return false, f.UsageErr("--dtype and --shape go together (they describe a raw block)")
	case s.Order.set && !s.DType.set:
		return false, f.UsageErr("--order needs --dtype and --shape (it describes a raw block)")
	}
	return s.DType.set, nil
}

// Spec is the array the flags describe.
func (s *Flags) Spec() ndshm.Spec {
	return ndshm.Spec{DType: s.DType.d, Shape: s.Shape.dims, Fortran: s.Order.fortran}
}

// DType is a flag.Value holding a dtype.
type DType struct {
	d   ndshm.DType
	set bool
}

// Value is the dtype given, the zero DType if none was.
func (v *DType) Value() ndshm.DType { return v.d }

// Given reports whether the flag was set.
func (v *DType) Given() bool { return v.set }

// String is the dtype as NumPy spells it, "" if none was given.
func (v *DType) String() string {
	if !v.set {
		return ""
	}
	return v.d.String()
}

// Set parses a NumPy dtype: f8, <i4, uint8, complex128.
func (v *DType) Set(s string) error {
	d, err := ndshm.ParseDType(s)
	if err != nil {
		// The library's error ends in "dtype mismatch", which misleads here.
		return fmt.Errorf("unknown dtype %q (want a NumPy dtype such as f8, <i4, uint8, complex128)", s)
	}
	v.d, v.set = d, true
	return nil
}

// Shape is a flag.Value holding a shape; an empty one is a scalar's.
type Shape struct {
	dims []int
	set  bool
}

// Value is the shape given, nil if none was.
func (v *Shape) Value() []int { return v.dims }

// Given reports whether the flag was set.
func (v *Shape) Given() bool { return v.set }

// String is the shape as the flag takes it: "3,4", "" for a scalar.
func (v *Shape) String() string { return human.FormatShape(v.dims) }

// Set parses a shape, "3,4" or "(3, 4)" (human.ParseShape).
func (v *Shape) Set(s string) error {
	dims, err := human.ParseShape(s)
	if err != nil {
		return err
	}
	v.dims, v.set = dims, true
	return nil
}

// Order is a flag.Value holding C or Fortran order.
type Order struct{ fortran, set bool }

// String is "C" or "F".
func (v *Order) String() string {
	if v.fortran {
		return "F"
	}
	return "C"
}

// Set parses C or F, in either case.
func (v *Order) Set(s string) error {
	switch strings.ToUpper(s) {
	case "C":
		v.fortran = false
	case "F":
		v.fortran = true
	default:
		return fmt.Errorf("order %q is neither C nor F", s)
	}
	v.set = true
	return nil
}
