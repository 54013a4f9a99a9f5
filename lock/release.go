package lock

import (
	"fmt"
	"os"

	"github.com/ndshm/ndshm/internal/sys"
)

// Unlock releases a write lock on region. It fails with ErrNotLocked,
// changing nothing, if the Table does not write-lock region.
func (t *Table) Unlock(region int) error { return t.release(region, region+1, true) }

// RUnlock releases one read lock on region; the Table's last reader
// releases the kernel's lock. It fails with ErrNotLocked, changing
// nothing, if the Table does not read-lock region.
func (t *Table) RUnlock(region int) error { return t.release(region, region+1, false) }

// UnlockRange releases the write locks on the regions [lo, hi), however
// they were taken; it fails with ErrNotLocked, changing nothing, unless
// the Table write-locks every one.
func (t *Table) UnlockRange(lo, hi int) error { return t.release(lo, hi, true) }

// RUnlockRange releases one read lock on each of the regions [lo, hi);
// it fails with ErrNotLocked, changing nothing, unless the Table
// read-locks every one.
func (t *Table) RUnlockRange(lo, hi int) error { return t.release(lo, hi, false) }

// release drops a lock of the mode given on each region of [lo, hi) and
// releases in the kernel the runs of regions nobody here holds any more.
func (t *Table) release(lo, hi int, write bool) error {
	if err := checkRange(lo, hi); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fd < 0 {
		return os.ErrClosed
	}
	for r := lo; r < hi; r++ {
		if n := t.held[r]; write && n >= 0 || !write && n <= 0 {
			return fmt.Errorf("%w: region %d", ErrNotLocked, r)
		}
	}
	var err error
	run := -1 // first region of the current run to release, or -1
	for r := lo; r <= hi; r++ {
		last := r < hi && t.drop(r)
		if last && run < 0 {
			run = r
		}
		if !last && run >= 0 {
			_, e := sys.SetRange(t.fd, sys.RangeUnlock, RegionOffset+int64(run), int64(r-run))
			if e != nil && err == nil {
				err = fmt.Errorf("lock: release regions [%d, %d): %w", run, r, e)
			}
			run = -1
		}
	}
	t.broadcast()
	return err
}

// drop removes one lock on region r, which the Table holds, and reports
// whether it was the last. t.mu is held.
func (t *Table) drop(r int) bool {
	if n := t.held[r]; n > 1 {
		t.held[r] = n - 1
		return false
	}
	delete(t.held, r)
	return true
}
