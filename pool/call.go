package pool

import (
	"errors"
	"fmt"

	"github.com/ndshm/ndshm"
)

// A call is one Map, MapTo or Reduce, checked and partitioned before any
// task runs.
type call struct {
	def            *opDef
	params         Params
	impl           impl
	src, dst       *ndshm.Block
	srcRef, dstRef *blockRef
	parts          []part
	rowLen         int  // elements per row along axis 0
	safe           bool // a partition may be redone without changing the result
}

// prepare checks everything that can be checked before any task runs:
// the op, its parameters for this dtype, the blocks, and the partitions.
// The caller holds p.mu.
func (p *Pool) prepare(reduce bool, src, dst *ndshm.Block, op string) (*call, error) {
	spec := src.Spec()
	def, params, f, err := check(op, reduce, spec.DType)
	if err != nil {
		return nil, err
	}
	c := &call{def: def, params: params, impl: f, src: src, dst: dst, safe: def.readOnly || def.idempotent || dst != nil}
	if err := c.refs(p); err != nil {
		return nil, err
	}
	n := rowsOf(spec)
	c.rowLen = spec.Len() / max(n, 1)
	c.parts = split(n, p.n, p.o.chunk)
	if err := checkParts(c.parts, n); err != nil {
		return nil, err
	}
	return c, nil
}

// Check checks, running nothing, what Reduce (reduce true) or Map and
// MapTo check first: that op is well-formed and registered, that it is a
// reduction for Reduce and writes for Map, that it runs on arrays of
// dtype dt (an error wrapping ndshm.ErrDType if not), and that its
// parameters suit it. A caller can check before it starts a pool.
func Check(op string, reduce bool, dt ndshm.DType) error {
	_, _, _, err := check(op, reduce, dt)
	return err
}

func check(op string, reduce bool, dt ndshm.DType) (*opDef, Params, impl, error) {
	name, params, err := ParseOp(op)
	if err != nil {
		return nil, nil, nil, err
	}
	def, err := lookup(name)
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case reduce && !def.readOnly:
		return nil, nil, nil, fmt.Errorf("%w for Reduce: %q writes the array (run it with Map)", ErrUnknownOp, name)
	case !reduce && def.readOnly:
		return nil, nil, nil, fmt.Errorf("%w for Map: %q is a reduction (run it with Reduce)", ErrUnknownOp, name)
	}
	f, err := def.implFor(dt)
	if err == nil {
		err = def.validate(params, dt)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return def, params, f, nil
}

// refs identifies the call's blocks and checks that a destination fits
// its source and is another file.
func (c *call) refs(p *Pool) error {
	var err error
	if c.srcRef, err = p.ref(c.src); err != nil {
		return fmt.Errorf("block %q: %w", c.src.Name(), err)
	}
	if c.dst == nil {
		return nil
	}
	if c.dstRef, err = p.ref(c.dst); err != nil {
		return fmt.Errorf("destination %q: %w", c.dst.Name(), err)
	}
	switch {
	case !sameLayout(c.src.Spec(), c.dst.Spec()):
		return fmt.Errorf("destination %v does not match source %v", c.dst.Spec(), c.src.Spec())
	case c.srcRef.id == c.dstRef.id:
		return errors.New("source and destination are the same block: use Map")
	}
	return nil
}

// check checks a worker's result for a partition against what a built-in
// op must return: every element counted, a histogram of the asked size.
func (c *call) check(s Stats, pt part) error {
	if !c.def.exact {
		return nil
	}
	if want := int64((pt.hi - pt.lo) * c.rowLen); s.Count != want {
		return fmt.Errorf("%s counted %d elements of a partition of %d", c.def.name, s.Count, want)
	}
	want := 0
	if c.def.bins != nil {
		want = c.def.bins(c.params)
	}
	if len(s.Hist) != want && (s.Count > 0 || len(s.Hist) > 0) { // no elements: perhaps no histogram
		return fmt.Errorf("%s returned %d bins, want %d", c.def.name, len(s.Hist), want)
	}
	var binned uint64 // at most s.Count, so no sum of bins can wrap
	for i, n := range s.Hist {
		if n > uint64(s.Count)-binned {
			return fmt.Errorf("%s put more elements in bins [0, %d] than the %d it counted", c.def.name, i, s.Count)
		}
		binned += n
	}
	return nil
}
