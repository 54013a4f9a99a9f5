package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/specflag"
	"github.com/ndshm/ndshm/internal/sys"
)

// openBlock maps the named block: raw as s describes it, or as its own
// header describes it.
func openBlock(name string, f *cmdflag.Set, s *specflag.Flags) (*ndshm.Block, error) {
	raw, err := s.Raw(f)
	if err != nil {
		return nil, err
	}
	if raw {
		b, err := ndshm.OpenRaw(name, s.Spec(), s.OpenOpts()...)
		return b, foreignHint(err)
	}
	b, err := ndshm.Open(name, s.OpenOpts()...)
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
// completion of /dev/shm/NAME (of $NDSHM_DIR/NAME) works.
func blockName(arg string) string { return strings.TrimPrefix(arg, sys.Dir+"/") }
