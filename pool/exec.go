package pool

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/fault"
)

// execute runs f over rows [lo, hi) of src (and dst), after checking the
// rows against the arrays themselves, and times it. This is what a worker
// process and a goroutine worker both do with a task. A panic in the op
// (a bug in a registered function, or a memory fault because another
// process truncated a named block) becomes an error: neither a worker nor
// the caller's process dies of it.
func execute(f impl, src, dst *ndshm.Block, lo, hi int, p Params) (s Stats, err error) {
	if err := checkRange(src, lo, hi); err != nil {
		return Stats{}, err
	}
	if dst != nil && !sameLayout(src.Spec(), dst.Spec()) {
		return Stats{}, fmt.Errorf("destination %v does not match source %v", dst.Spec(), src.Spec())
	}
	if lo == hi {
		return Stats{}, nil // ops never see an empty partition
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if err = fault.Of(r); err == nil {
				err = fmt.Errorf("panic: %v%s", r, panicSite())
			}
		}
	}()
	start := time.Now()
	s, err = f(src, dst, lo, hi, p)
	s.Elapsed = time.Since(start)
	return s, err
}

// sameLayout reports whether two arrays have the same dtype, shape and
// order, so that the same rows of each are the same elements.
func sameLayout(a, b ndshm.Spec) bool {
	return a.DType.Equal(b.DType) && slices.Equal(a.Shape, b.Shape) && a.Fortran == b.Fortran
}

// panicSite returns " at file:line" of the function that panicked, when
// called from a deferred function during the panic.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs) // skip Callers, panicSite, the deferred function
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function != "" && !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return ""
		}
	}
}
