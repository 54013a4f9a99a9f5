package ndshm

import "errors"

// Errors that callers can test with errors.Is. Name-bearing operations wrap
// them in an *fs.PathError; absence and name clashes use fs.ErrNotExist and
// fs.ErrExist, and use after Close uses os.ErrClosed.
var (
	// ErrFormat means a block, or a .npy file, is not in ndshm's format or
	// contradicts itself: bad magic, a truncated file, sizes that disagree.
	ErrFormat = errors.New("not a valid ndshm block")

	// ErrDType means a dtype is unsupported, or does not match the Go
	// element type a view asked for, or a block's header contradicts the
	// Spec given to OpenRaw.
	ErrDType = errors.New("dtype mismatch")
)
