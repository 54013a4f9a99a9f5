package lock

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// Polling bounds for a wait on another process. Starting short resolves
// a brief conflict quickly; the cap bounds how late a release is seen, and
// the CPU a long wait burns (a few hundred wake-ups a second).
const (
	minBackoff = 20 * time.Microsecond
	maxBackoff = 2 * time.Millisecond
)

// pause sleeps d between polls. time.Sleep rounds anything under a
// millisecond up to about one, so short pauses nap the thread instead:
// that pins it, but for under a millisecond.
func pause(d time.Duration) {
	if d < time.Millisecond {
		sys.Nap(d)
	} else {
		time.Sleep(d)
	}
}

// Lock write-locks region, waiting until no other goroutine or process
// holds it, or until ctx is done, when it returns ctx.Err(); a done ctx
// still gets one try. A region held by this Table is waited for with a
// wake-up at its release. One held by another process is polled for,
// at intervals growing from 20 µs to 2 ms: a release is seen about
// 0.1 ms late after a short hold and up to 2 ms late after a long one,
// and only the first millisecond of the wait pins an OS thread.
//
// To hold several regions, take them in one LockRange, or always in
// increasing order: two holders that each wait for the other's region
// wait until their contexts end.
func (t *Table) Lock(ctx context.Context, region int) error {
	return t.LockRange(ctx, region, region+1)
}

// RLock read-locks region, waiting as Lock does. Any number of readers,
// in any processes, hold a region together; a writer excludes them.
// There is no writer preference: a stream of readers can starve a writer.
func (t *Table) RLock(ctx context.Context, region int) error {
	return t.RLockRange(ctx, region, region+1)
}

// TryLock write-locks region if that needs no waiting, and reports
// whether it did.
func (t *Table) TryLock(region int) (bool, error) {
	return t.tryOnce(region, true)
}

// TryRLock read-locks region if that needs no waiting, and reports
// whether it did.
func (t *Table) TryRLock(region int) (bool, error) {
	return t.tryOnce(region, false)
}

// tryOnce is TryLock and TryRLock.
func (t *Table) tryOnce(region int, write bool) (bool, error) {
	if err := checkRange(region, region+1); err != nil {
		return false, err
	}
	_, ok, err := t.try(region, region+1, write)
	return ok, err
}

// LockRange write-locks the regions [lo, hi) all at once, as Lock does
// one: it waits until it can take them all and never holds some while
// it waits for others, so ranges taken this way cannot deadlock with
// one another. The cross-process part is one fcntl call for the range;
// the Table's own bookkeeping costs time and memory in proportion to
// hi-lo, so ranges are for bands of regions, not for millions of them.
// The regions may be released together (UnlockRange) or one by one.
func (t *Table) LockRange(ctx context.Context, lo, hi int) error {
	return t.acquire(ctx, lo, hi, true)
}

// RLockRange read-locks the regions [lo, hi) all at once, as LockRange
// write-locks them.
func (t *Table) RLockRange(ctx context.Context, lo, hi int) error {
	return t.acquire(ctx, lo, hi, false)
}

// acquire takes the regions [lo, hi), waiting as ctx allows.
func (t *Table) acquire(ctx context.Context, lo, hi int, write bool) error {
	if err := checkRange(lo, hi); err != nil {
		return err
	}
	backoff := minBackoff
	for {
		wake, ok, err := t.try(lo, hi, write)
		if ok || err != nil {
			return err
		}
		if wake != nil { // held in this process: its release wakes us
			select {
			case <-wake:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		pause(backoff) // held by another process: poll
		if err := ctx.Err(); err != nil {
			return err
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// try takes the regions [lo, hi) if it can without waiting. If a
// goroutine of this Table holds one of them in a conflicting mode, it
// returns a channel closed at the Table's next release; if another
// description does, a nil channel.
func (t *Table) try(lo, hi int, write bool) (<-chan struct{}, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fd < 0 {
		return nil, false, os.ErrClosed
	}
	if !t.free(lo, hi, write) {
		if t.wake == nil {
			t.wake = make(chan struct{})
		}
		return t.wake, false, nil
	}
	// Over regions this Table already read-locks, a read lock on the
	// whole range changes nothing, so one call covers the range.
	mode := sys.RangeRead
	if write {
		mode = sys.RangeWrite
	}
	ok, err := sys.SetRange(t.fd, mode, RegionOffset+int64(lo), int64(hi-lo))
	if err != nil {
		return nil, false, fmt.Errorf("lock: regions [%d, %d): %w", lo, hi, err)
	}
	if ok {
		t.take(lo, hi, write)
	}
	return nil, ok, nil
}

// free reports whether this Table's goroutines leave the regions
// [lo, hi) free to lock in the mode asked. t.mu is held.
func (t *Table) free(lo, hi int, write bool) bool {
	for r := lo; r < hi; r++ {
		if n := t.held[r]; n < 0 || write && n > 0 {
			return false
		}
	}
	return true
}

// take records the regions [lo, hi) as locked. t.mu is held.
func (t *Table) take(lo, hi int, write bool) {
	for r := lo; r < hi; r++ {
		if write {
			t.held[r] = -1
		} else {
			t.held[r]++
		}
	}
}
