// Package npy encodes and decodes the header of NumPy's .npy format.
//
// A .npy header is the magic string "\x93NUMPY", a major and minor version
// byte, the length of the rest of the header (a little-endian uint16 in
// version 1.0, a uint32 in versions 2.0 and 3.0), and the repr of a Python
// dict with the keys 'descr', 'fortran_order' and 'shape', padded with
// spaces and ending in '\n'. Versions 1.0 and 2.0 encode the dict in
// latin-1, version 3.0 in UTF-8.
//
// The dict is parsed by hand as a small, safe subset of Python literal
// syntax, with limits on length, nesting and integer size, because ndshm
// reads headers from shared memory that any process may have written.
// The package does not decide which dtypes are supported; that is the
// caller's job.
package npy

import "math"

// MaxHeaderLen bounds the dict length a reader accepts (1 MiB), so a lying
// length cannot make us allocate gigabytes.
const MaxHeaderLen = 1 << 20

// MaxDims is the most dimensions accepted (NumPy 1.x's NPY_MAXDIMS, 32).
const MaxDims = 32

const (
	magic = "\x93NUMPY"

	// maxDim bounds every integer in a header, so that callers can
	// multiply a dimension by a small itemsize without overflowing.
	maxDim = min(1<<62, math.MaxInt)

	// maxDepth bounds the nesting of containers in the dict (the dict
	// itself is level 1) so that hostile input cannot exhaust the stack.
	maxDepth = 32
)
