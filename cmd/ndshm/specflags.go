package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
)

// specFlags are --dtype, --shape and --order: the array a new block
// holds, or, for commands that read a block, how to read a raw one (a
// file with no ndshm header, such as Python's SharedMemory makes).
type specFlags struct {
	dtype   dtypeValue
	shape   shapeValue
	order   orderValue
	foreign bool // --allow-foreign, of commands that map a block

	// readOnly is set by commands that only read the block (stats,
	// reduce, save, inspect): they open it O_RDONLY and map it PROT_READ,
	// so read permission on the block is enough, as for cp or np.load.
	readOnly bool
}

// register adds the flags to f; what says what they describe.
func (s *specFlags) register(f *cmdflag.Set, what string) {
	f.Var(&s.dtype, "dtype", "the NumPy dtype `D` of "+what+", such as f8, <i4, uint8, complex128")
	f.Var(&s.shape, "shape", "the shape `S` of "+what+": sizes such as 3,4 or (3, 4); '' for a scalar")
	f.Var(&s.order, "order", "the memory order of "+what+", `C|F`: C row-major (default), F column-major")
}

// registerRead adds the flags of a command that maps an existing block:
// the spec of a raw block, and --allow-foreign.
func (s *specFlags) registerRead(f *cmdflag.Set) {
	s.register(f, "a raw block")
	f.BoolVar(&s.foreign, "allow-foreign", false, foreignUsage)
}

const foreignUsage = "map a block another user owns (it could truncate it under us: SIGBUS)"

// openOpts are the options of opening a block that the flags ask for.
func (s *specFlags) openOpts() []ndshm.Option {
	var opts []ndshm.Option
	if s.foreign {
		opts = append(opts, ndshm.AllowForeign())
	}
	if s.readOnly {
		opts = append(opts, ndshm.ReadOnly())
	}
	return opts
}

// raw reports whether the block is to be read raw, as the flags
// describe it: only with both --dtype and --shape.
func (s *specFlags) raw(f *cmdflag.Set) (bool, error) {
	switch {
	case s.dtype.set != s.shape.set:
		return false, f.UsageErr("--dtype and --shape go together (they describe a raw block)")
	case s.order.set && !s.dtype.set:
		return false, f.UsageErr("--order needs --dtype and --shape (it describes a raw block)")
	}
	return s.dtype.set, nil
}

// spec is the array the flags describe.
func (s *specFlags) spec() ndshm.Spec {
	return ndshm.Spec{DType: s.dtype.d, Shape: s.shape.dims, Fortran: s.order.fortran}
}

// openBlock maps the named block: raw as s describes it, or as its own
// header describes it.
func openBlock(name string, f *cmdflag.Set, s *specFlags) (*ndshm.Block, error) {
	raw, err := s.raw(f)
	if err != nil {
		return nil, err
	}
	if raw {
		b, err := ndshm.OpenRaw(name, s.spec(), s.openOpts()...)
		return b, foreignHint(err)
	}
	b, err := ndshm.Open(name, s.openOpts()...)
	return b, formatHint(err)
}

// foreignHint names the flag that maps another user's block.
func foreignHint(err error) error {
	if errors.Is(err, fs.ErrPermission) && strings.Contains(err.Error(), "AllowForeign") {
		return fmt.Errorf("%w (--allow-foreign maps it anyway)", err)
	}
	return err
}

// formatHint adds what to do about a block that is not ndshm's, or is
// another user's.
func formatHint(err error) error {
	err = foreignHint(err)
	if errors.Is(err, ndshm.ErrFormat) {
		return fmt.Errorf("%w (for a block without an ndshm header, give --dtype and --shape)", err)
	}
	return err
}

// blockName accepts a block's path as well as its name, so that shell
// completion of /dev/shm/NAME works.
func blockName(arg string) string { return strings.TrimPrefix(arg, "/dev/shm/") }
