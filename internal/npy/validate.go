package npy

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// validate reports whether h is a header that Read would accept, so that
// Encode never writes one it cannot read back.
func (h Header) validate() error {
	if err := checkShape("shape", h.Shape); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if err := h.Descr.validate(); err != nil {
		return err
	}
	// The descr value sits in the dict, at nesting level 2.
	if descrDepth(h.Descr, 2) > maxDepth {
		return errors.New("npy: descr is nested too deeply")
	}
	return nil
}

func (d Descr) validate() error {
	if d.Fields == nil {
		if d.Type == "" {
			return errors.New("npy: empty descr")
		}
		if !utf8.ValidString(d.Type) {
			return fmt.Errorf("npy: descr %s is not valid UTF-8", quoteShort(d.Type))
		}
		return nil
	}
	if d.Type != "" {
		return fmt.Errorf("npy: descr has both a Type (%s) and Fields", quoteShort(d.Type))
	}
	for _, f := range d.Fields {
		if !utf8.ValidString(f.Name) {
			return fmt.Errorf("npy: field name %s is not valid UTF-8", quoteShort(f.Name))
		}
		if err := checkShape("field "+quoteShort(f.Name)+" shape", f.Shape); err != nil {
			return fmt.Errorf("npy: %w", err)
		}
		if err := f.Descr.validate(); err != nil {
			return err
		}
	}
	return nil
}

// checkShape applies the limits Read applies to a shape tuple. Its errors
// lack the "npy: " prefix, as Read and Encode prefix them differently.
func checkShape(what string, dims []int) error {
	if len(dims) > MaxDims {
		return fmt.Errorf("%s has %d dimensions, more than %d", what, len(dims), MaxDims)
	}
	for _, n := range dims {
		if n < 0 {
			return fmt.Errorf("%s has negative dimension %d", what, n)
		}
		if uint64(n) > maxDim {
			return fmt.Errorf("%s dimension %d exceeds %d", what, n, uint64(maxDim))
		}
	}
	return nil
}

// descrDepth returns the deepest container nesting level in d's literal,
// mirroring how the parser counts, when d's value sits at level depth.
func descrDepth(d Descr, depth int) int {
	if d.Fields == nil {
		return 0 // a string is not a container
	}
	deepest := depth // the list
	for _, f := range d.Fields {
		deepest = max(deepest, depth+1) // the field tuple
		if len(f.Shape) > 0 {
			deepest = max(deepest, depth+2)
		}
		deepest = max(deepest, descrDepth(f.Descr, depth+2))
	}
	return deepest
}
