package main

import (
	"fmt"
	"strings"

	"github.com/ndshm/ndshm"
)

// The flag.Values of --dtype, --shape and --order. Each records whether
// it was set, since commands that read a block treat the three as one
// description of a raw block. A bad value is a flag error, and so a
// usage error.

// dtypeValue is a flag.Value holding a dtype.
type dtypeValue struct {
	d   ndshm.DType
	set bool
}

func (v *dtypeValue) String() string {
	if !v.set {
		return ""
	}
	return v.d.String()
}

func (v *dtypeValue) Set(s string) error {
	d, err := ndshm.ParseDType(s)
	if err != nil {
		// The library's error ends in "dtype mismatch", which misleads here.
		return fmt.Errorf("unknown dtype %q (want a NumPy dtype such as f8, <i4, uint8, complex128)", s)
	}
	v.d, v.set = d, true
	return nil
}

// shapeValue is a flag.Value holding a shape; an empty one is a scalar's.
type shapeValue struct {
	dims []int
	set  bool
}

func (v *shapeValue) String() string { return formatShape(v.dims) }

func (v *shapeValue) Set(s string) error {
	dims, err := parseShape(s)
	if err != nil {
		return err
	}
	v.dims, v.set = dims, true
	return nil
}

// orderValue is a flag.Value holding C or Fortran order.
type orderValue struct{ fortran, set bool }

func (v *orderValue) String() string {
	if v.fortran {
		return "F"
	}
	return "C"
}

func (v *orderValue) Set(s string) error {
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
