package ring

import (
	"context"
	"slices"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// claim finds the slot for frame w.seq and marks it busy, waiting while
// the policy says none is free.
func (w *Writer) claim(ctx context.Context) (int, error) {
	for {
		k, err := w.wait(ctx)
		if err != nil {
			return -1, err
		}
		if w.r.cfg.policy == Overwrite {
			// A reader stores its hold, then loads the claim; we store the
			// claim, then load holds. Both are sequentially consistent, so
			// a reader that slipped in is seen here, or sees the claim and
			// backs off.
			w.c.slot(k, sClaim).Store(1)
			if w.held(w.slotSeq[k]) {
				w.c.slot(k, sClaim).Store(0)
				continue
			}
		}
		w.c.slot(k, sSeq).Store(busy | w.seq)
		w.c.slot(k, sClaim).Store(0)
		return k, nil
	}
}

// free returns the slot for frame w.seq if the policy lets it be written
// now, or -1.
func (w *Writer) free() int {
	if w.r.cfg.policy == Overwrite {
		return w.oldestFree()
	}
	// Block never skips a slot, so frames fill the slots in turn.
	k := int(w.seq % uint64(len(w.slotSeq)))
	if w.consumed(k) {
		return k
	}
	return -1
}

// consumed reports whether slot k's frame is done with, under Block.
func (w *Writer) consumed(k int) bool {
	v := w.slotSeq[k] // seq+1
	if v == 0 {
		return true
	}
	if w.r.cfg.mode == Queue {
		return w.c.qnext().Load() >= v && !w.held(v)
	}
	if v <= w.gate {
		return true
	}
	w.gate = w.seq // with no reader, nothing waits to be read
	for i := range w.c.readers {
		if w.c.reader(i, rState).Load()&1 != 0 {
			w.gate = min(w.gate, w.c.reader(i, rNext).Load())
		}
	}
	return v <= w.gate
}

// held reports whether a live reader holds the frame whose seq+1 is v.
func (w *Writer) held(v uint64) bool {
	if v == 0 {
		return false
	}
	for i := range w.c.readers {
		if w.c.reader(i, rState).Load()&1 != 0 && w.c.reader(i, rHold).Load() == v {
			return true
		}
	}
	return false
}

// oldestFree returns the slot of the oldest frame no reader holds, or -1.
// A reader passed over while holding the oldest frame for a tick may
// have died: its place is reclaimed.
func (w *Writer) oldestFree() int {
	w.holds = w.holds[:0]
	for i := range w.c.readers {
		if w.c.reader(i, rState).Load()&1 != 0 {
			if h := w.c.reader(i, rHold).Load(); h != 0 {
				w.holds = append(w.holds, h)
			}
		}
	}
	k, oldest := -1, 0
	for j, v := range w.slotSeq {
		if v < w.slotSeq[oldest] {
			oldest = j
		}
		if (k < 0 || v < w.slotSeq[k]) && !slices.Contains(w.holds, v) {
			k = j
		}
	}
	if k != oldest && time.Since(w.reclaimed) >= tick {
		w.reclaim()
	}
	return k
}

// wait returns once free reports true. While it waits it sleeps on the
// freed word, which readers bump as they release, and after each tick
// without progress it reclaims the places of readers that died.
func (w *Writer) wait(ctx context.Context) (int, error) {
	c := w.c
	if k := w.free(); k >= 0 {
		return k, nil
	}
	// Poll briefly first: a reader that is keeping up frees a slot within
	// a couple of microseconds, far sooner than a futex round trip.
	for end := time.Now().Add(minPoll); ; {
		if k := w.free(); k >= 0 {
			return k, nil
		}
		if !time.Now().Before(end) {
			break
		}
	}
	for {
		c.wwaits().Store(1)
		f := c.freed().Load()
		if k := w.free(); k >= 0 {
			c.wwaits().Store(0)
			return k, nil
		}
		err := sleep(ctx, word32(c.freed()), f)
		c.wwaits().Store(0)
		if err != nil {
			return -1, err
		}
		if time.Since(w.reclaimed) >= tick {
			w.reclaim()
		}
	}
}

// reclaim frees the places of readers that are marked active but whose
// lock nobody holds: they died. Taking the lock ourselves first keeps a
// reader that joins meanwhile from being reset.
func (w *Writer) reclaim() {
	for i := range w.c.readers {
		if w.c.reader(i, rState).Load()&1 == 0 {
			continue
		}
		if ok, err := sys.SetRange(w.fd, sys.RangeWrite, readerLock+int64(i), 1); err == nil && ok {
			w.c.forgetSleeper(i)
			w.c.reader(i, rHold).Store(0)
			w.c.reader(i, rState).Store(0)
			sys.SetRange(w.fd, sys.RangeUnlock, readerLock+int64(i), 1)
			w.gate = 0
		}
	}
	w.reclaimed = time.Now()
}
