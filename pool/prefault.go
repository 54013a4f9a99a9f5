package pool

import (
	"os"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// A worker maps a block when it is first handed it, and the first touch
// of each page through that new mapping costs a page fault and a page
// table fill. A kernel that reads a page first gets the kernel's
// fault-around (16 pages per fault, mapped writable on shmem); one that
// writes first (fill, or any op into a MapTo destination) faults once
// per 4 KiB page. So before the first such task on a block, a worker
// populates the page tables of the rows it writes, its own partition
// only, with one madvise. Measured on a 2-vCPU VM
// (BenchmarkFirstCallPrefault, 256 MiB, 2 workers, alternating in one
// run): the first fill=2 takes 0.36-0.59 of the time; sqrt in place
// (read first) 0.71-1.31, noise, so ops that read first are left alone.
//
// NDSHM_POOL_PREFAULT=0 in a worker's environment turns it off, to
// measure what it gives.
var prefaultOff = os.Getenv("NDSHM_POOL_PREFAULT") == "0"

// prefault populates the page tables of rows [lo, hi) (checked) of b for
// writing, in one call, rather than a fault per page.
func prefault(b *ndshm.Block, lo, hi int) {
	s, data := b.Spec(), b.Bytes()
	n := rowsOf(s)
	if len(data) == 0 || n == 0 {
		return
	}
	from, to := 0, len(data)
	if !s.Fortran || len(s.Shape) <= 1 { // rows are contiguous
		row := len(data) / n
		from, to = lo*row, hi*row
	}
	const page = 4096 // madvise wants a page-aligned start; the data starts on one
	sys.Populate(data[from&^(page-1) : to])
}

// prefaultFirst prefaults the rows t writes before reading them, if
// this is the first task on their block since the worker mapped it.
func (w *worker) prefaultFirst(t *task, def *opDef, src, dst *ndshm.Block) {
	id, b := t.src, src
	if dst != nil {
		id, b = t.dst, dst
	} else if !def.overwrites {
		return
	}
	if prefaultOff || !w.fresh[id] || checkRange(b, int(t.lo), int(t.hi)) != nil {
		return
	}
	delete(w.fresh, id)
	prefault(b, int(t.lo), int(t.hi))
}
