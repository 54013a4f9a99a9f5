package server

import (
	"fmt"
	"syscall"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

const (
	// memReserve is memory a new block must leave free, for the server
	// itself and everything else running.
	memReserve = 64 << 20
	// fallbackAnon is the default MaxAnon when free memory is unknown.
	fallbackAnon = 1 << 30
	// blockOverhead is the most a block's file adds to its data: a
	// header page, rounding, and a footer page.
	blockOverhead = 3 * 4096
)

// anonLimit is MaxAnon resolved: the configured limit, or half the memory
// free now, or no limit (< 0).
func (s *Server) anonLimit() int64 {
	if s.MaxAnon != 0 {
		return s.MaxAnon
	}
	if free, ok := sys.FreeMemory(); ok {
		return free / 2
	}
	return fallbackAnon
}

// room checks, before a single page is reserved, that a new block holding
// sp fits under limit (< 0: none) and in the memory free now. Blocks are
// charged to the server's memory (and cgroup): one too large would get
// the server killed instead of refused.
func (s *Server) room(op string, sp ndshm.Spec, limit int64) error {
	n := int64(sp.Size()) + blockOverhead
	if limit >= 0 && n > limit {
		return fmt.Errorf("%s: %v is %s, more than this server's limit of %s (ndshm serve --max-anon): %w",
			op, sp, size(n), size(limit), syscall.ENOSPC)
	}
	if free, ok := sys.FreeMemory(); ok && n > free-memReserve {
		return fmt.Errorf("%s: %v is %s, and only %s of memory is free: %w",
			op, sp, size(n), size(max(free, 0)), syscall.ENOSPC)
	}
	return nil
}
