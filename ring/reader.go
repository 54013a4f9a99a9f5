package ring

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/sys"
)

// A Reader receives frames from a ring: in Broadcast mode every frame
// published after it subscribed, in Queue mode its share of them. It
// holds at most one frame at a time, from Next until Release (or the
// next Next). A Reader is not safe for concurrent use; use one per
// goroutine.
type Reader struct {
	r    *Ring
	c    ctl
	fd   int // holds this reader's place lock
	i    int // its place
	next uint64
	held int // slot held, or -1
	seq  uint64
	spin time.Duration

	stream uint32 // the stream it reads, 0 between streams
	last   uint32 // the stream it saw end, which it must not join again

	missed, recv uint64
}

// Reader subscribes to the ring, taking a free reader place (a ring has
// Config.Readers of them; a dead reader's place is free). A Broadcast
// reader starts with the next frame published.
func (r *Ring) Reader() (*Reader, error) {
	fd, err := r.ownFD()
	if err != nil {
		return nil, err
	}
	// Twice: a writer reclaiming a dead reader's place holds its lock
	// for a moment.
	for pass := range 2 {
		if pass > 0 {
			time.Sleep(time.Millisecond)
		}
		for i := range r.c.readers {
			ok, err := sys.SetRange(fd, sys.RangeWrite, readerLock+int64(i), 1)
			if err != nil {
				sys.Close(fd)
				return nil, &fs.PathError{Op: "subscribe", Path: r.Name(), Err: err}
			}
			if ok {
				return r.join(fd, i), nil
			}
		}
	}
	sys.Close(fd)
	return nil, &fs.PathError{Op: "subscribe", Path: r.Name(),
		Err: fmt.Errorf("all %d reader places taken", r.c.readers)}
}

// join sets up place i, whose lock fd holds. Its cursor gates the writer
// (at 0, everything) before it is active, and is moved to the head only
// after: a writer that missed the join cannot have run past the head.
func (r *Ring) join(fd, i int) *Reader {
	c := r.c
	c.forgetSleeper(i) // a dead predecessor's
	for _, f := range []int{rHold, rMissed, rRecv} {
		c.reader(i, f).Store(0)
	}
	c.reader(i, rNext).Store(0)
	c.reader(i, rState).Store(uint64(os.Getpid())<<32 | stateActive)
	w := c.writer().Load() // before the head: see wait
	rd := &Reader{r: r, c: c, fd: fd, i: i, held: -1, next: c.head().Load()}
	c.reader(i, rNext).Store(rd.next)
	// A live writer's stream is joined now, so that its end is this
	// reader's io.EOF even if no frame comes first (Queue: only with no
	// older frames waiting); otherwise the reader waits for the next.
	state, s, _ := writerWord(w)
	alive := state == writerLive
	if alive {
		held, err := sys.Held(fd, writerLock)
		alive = err != nil || held && c.writer().Load() == w // not a successor's lock
	}
	switch {
	case !alive:
		rd.last = s
	case r.cfg.mode == Broadcast || c.qnext().Load() >= rd.next:
		rd.stream = s
	}
	// Positioned only now: WaitReaders counts a reader from here, so a
	// writer that waited for it publishes nothing below its next.
	c.reader(i, rState).Store(uint64(os.Getpid())<<32 | stateActive | statePositioned)
	c.notifyWriter()
	return rd
}

// SetSpin makes Next poll for up to d before it sleeps: lower latency for
// a core's worth of polling. The default, 0, sleeps at once.
func (rd *Reader) SetSpin(d time.Duration) { rd.spin = d }

// Stream returns the stream the reader is in, or 0 between streams
// (waiting for a writer).
func (rd *Reader) Stream() uint32 { return rd.stream }

// Missed returns the frames this reader skipped because the writer had
// overwritten them (Overwrite policy only).
func (rd *Reader) Missed() uint64 { return rd.missed }

// Next waits for the reader's next frame and holds it. A ring carries
// one stream per Writer, one after another. Next returns io.EOF once the
// reader's stream has ended (its writer closed, or another writer
// started) and every frame of it is read; an error wrapping
// io.ErrUnexpectedEOF if its writer died; or ctx's error. After either
// end, the next call waits for the next stream, which a reader that
// subscribed between streams does from the start. Next releases the
// frame held before, if any (see Release), and allocates nothing.
func (rd *Reader) Next(ctx context.Context) (Frame, error) {
	if rd.fd < 0 {
		return Frame{}, os.ErrClosed
	}
	rd.Release()
	for idle := false; ; idle = true {
		f, ok, err := rd.try()
		if ok || err != nil {
			return f, err
		}
		if err := rd.wait(ctx, idle); err != nil {
			return Frame{}, err
		}
	}
}

// Release gives the held frame back to the writer. Under the Overwrite
// policy it returns ErrTorn if the frame changed while held, which only
// a peer breaking the protocol can cause. Releasing nothing is a no-op.
func (rd *Reader) Release() error {
	k := rd.held
	if k < 0 {
		return nil
	}
	c := rd.c
	var err error
	if rd.r.cfg.policy == Overwrite && c.slot(k, sSeq).Load() != rd.seq+1 {
		err = fmt.Errorf("%w: frame %d in slot %d", ErrTorn, rd.seq, k)
	}
	if rd.r.cfg.mode == Broadcast {
		rd.next = rd.seq + 1
		c.reader(rd.i, rNext).Store(rd.next)
	}
	c.reader(rd.i, rHold).Store(0)
	rd.held, rd.recv = -1, rd.recv+1
	c.reader(rd.i, rRecv).Store(rd.recv)
	c.notifyWriter()
	return err
}

// Close releases any held frame and gives the reader's place up.
func (rd *Reader) Close() error {
	if rd.fd < 0 {
		return nil
	}
	rd.Release()
	rd.c.reader(rd.i, rState).Store(0)
	rd.c.notifyWriter()
	err := sys.Close(rd.fd)
	rd.fd = -1
	return err
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: ring: "+format, append([]any{ndshm.ErrFormat}, args...)...)
}
