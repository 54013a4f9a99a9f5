package ring

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// A Writer publishes frames into a ring: Loan a free slot, fill it in
// place, Publish it. A ring has at most one live Writer, across all
// processes. A Writer is not safe for concurrent use.
type Writer struct {
	r       *Ring
	c       ctl
	fd      int      // holds the writer lock
	seq     uint64   // the next frame's sequence number
	stream  uint32   // this writer's stream
	index   uint64   // the next frame's index within the stream
	loan    int      // the slot on loan, or -1
	slotSeq []uint64 // seq+1 of the frame in each slot, 0 if none
	gate    uint64   // broadcast, block: every frame below it is consumed
	holds   []uint64 // overwrite: scratch for the frames readers hold

	reclaimed time.Time // when dead readers were last looked for
}

// Writer makes this process the ring's writer and starts a new stream:
// its frames carry the next stream number and are indexed from 0, while
// sequence numbers go on from the previous writer's. Readers subscribed
// to the previous stream get io.EOF at its end, then this one's frames.
// It fails with fs.ErrExist while another Writer lives; a writer that
// died is replaced.
func (r *Ring) Writer() (*Writer, error) {
	fd, err := r.ownFD()
	if err != nil {
		return nil, &fs.PathError{Op: "write", Path: r.Name(), Err: err}
	}
	ok, err := sys.SetRange(fd, sys.RangeWrite, writerLock, 1)
	if err == nil && !ok {
		err = fmt.Errorf("ring has a live writer (pid %d): %w", r.c.writer().Load()>>32, fs.ErrExist)
	}
	if err != nil {
		sys.Close(fd)
		return nil, &fs.PathError{Op: "write", Path: r.Name(), Err: err}
	}
	w := &Writer{r: r, c: r.c, fd: fd, loan: -1,
		slotSeq: make([]uint64, r.cfg.slots), holds: make([]uint64, 0, r.cfg.readers), reclaimed: time.Now()}
	w.seq = r.c.head().Load()
	for k := range w.slotSeq {
		s := r.c.slot(k, sSeq).Load()
		if s&busy != 0 || s > w.seq { // a dead writer's unpublished frame
			s = 0
			r.c.slot(k, sSeq).Store(0)
		}
		w.slotSeq[k] = s
	}
	_, prev, _ := writerWord(r.c.writer().Load())
	w.stream = nextStream(prev)
	r.c.writer().Store(makeWriterWord(writerLive, w.stream, os.Getpid()))
	return w, nil
}

// Loan returns a free slot for the next frame, waiting, under the Backpressure
// policy, until readers release one; ctx bounds the wait. The frame's
// bytes alias the ring and are the writer's until Publish. Loaning again
// before Publish returns the same frame.
func (w *Writer) Loan(ctx context.Context) (Frame, error) {
	if w.fd < 0 {
		return Frame{}, os.ErrClosed
	}
	if w.loan < 0 {
		k, err := w.claim(ctx)
		if err != nil {
			return Frame{}, fmt.Errorf("ring %s: no free slot for frame %d: %w", w.r.Name(), w.seq, err)
		}
		w.loan = k
	}
	return Frame{Seq: w.seq, Stream: w.stream, Index: w.index, Slot: w.loan, data: w.r.frame(w.loan), r: w.r}, nil
}

// Publish hands the loaned frame to the readers, stamped with tag and
// the time now, and wakes those waiting. It allocates nothing.
func (w *Writer) Publish(tag uint64) error {
	k, s := w.loan, w.seq
	if k < 0 {
		return fmt.Errorf("ring %s: publish with no frame on loan", w.r.Name())
	}
	c := w.c
	c.slot(k, sTag).Store(tag)
	c.slot(k, sTime).Store(uint64(time.Now().UnixNano()))
	c.slot(k, sStream).Store(uint64(w.stream))
	c.slot(k, sIndex).Store(w.index)
	c.slot(k, sSeq).Store(s + 1)
	c.logEntry(s).Store((s+1)<<16 | uint64(k))
	w.slotSeq[k], w.seq, w.loan, w.index = s+1, s+1, -1, w.index+1
	c.head().Store(s + 1)
	if c.waiters().Load() != 0 {
		wake(futex32(c.head()))
	}
	return nil
}

// Close ends this writer's stream: its readers get io.EOF once they have
// read every frame it published, and the ring waits for the next
// Writer. A frame on loan is dropped. Close is idempotent.
func (w *Writer) Close() error {
	if w.fd < 0 {
		return nil
	}
	if w.loan >= 0 { // half-written over an older frame: neither is left
		w.c.slot(w.loan, sSeq).Store(0)
		w.slotSeq[w.loan], w.loan = 0, -1
	}
	w.c.writer().Store(makeWriterWord(writerClosed, w.stream, os.Getpid()))
	wake(futex32(w.c.head()))
	err := sys.Close(w.fd)
	w.fd = -1
	return err
}

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
	// Backpressure never skips a slot, so frames fill the slots in turn.
	k := int(w.seq % uint64(len(w.slotSeq)))
	if w.consumed(k) {
		return k
	}
	return -1
}

// consumed reports whether slot k's frame is done with, under Backpressure.
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
