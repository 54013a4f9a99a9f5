package ring

import (
	"context"
	"fmt"
	"io/fs"
	"os"
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
		return nil, err
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

// Loan returns a free slot for the next frame, waiting, under the Block
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
	return Frame{Seq: w.seq, Stream: w.stream, Index: w.index, Slot: w.loan, data: w.r.frame(w.loan)}, nil
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
