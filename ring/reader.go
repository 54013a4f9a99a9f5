package ring

import (
	"context"
	"fmt"
	"io"
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
		return nil, &fs.PathError{Op: "subscribe", Path: r.Name(), Err: err}
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
// subscribed between streams does from the start. Next allocates
// nothing.
//
// Next first releases the frame held before, if any (see Release). If
// that frame was overwritten while held (Overwrite policy), Next returns
// an error wrapping ErrTorn and no frame, as Python's Reader.recv raises
// TornFrame: what was read from it may mix two frames. The frame is
// released all the same, so the next call goes on with the next frame.
func (rd *Reader) Next(ctx context.Context) (Frame, error) {
	if rd.fd < 0 {
		return Frame{}, os.ErrClosed
	}
	if err := rd.Release(); err != nil {
		return Frame{}, err
	}
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
// policy it returns an error wrapping ErrTorn if the frame changed while
// held, which only a peer breaking the protocol can cause; the frame is
// released either way, and the next Next does not report it again.
// Releasing nothing is a no-op.
func (rd *Reader) Release() error {
	k := rd.held
	if k < 0 {
		return nil
	}
	c := rd.c
	var err error
	if rd.r.cfg.policy == Overwrite && c.slot(k, sSeq).Load() != rd.seq+1 {
		err = fmt.Errorf("ring %s: frame %d in slot %d: %w", rd.r.Name(), rd.seq, k, ErrTorn)
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

// try takes the reader's next frame if one is published. Every number it
// reads from shared memory is checked before it indexes anything: a
// corrupt ring is an ndshm.ErrFormat error, never a panic or a hang.
func (rd *Reader) try() (Frame, bool, error) {
	c, n, over := rd.c, uint64(rd.r.cfg.slots), rd.r.cfg.policy == Overwrite
	for {
		cur := rd.cursor()
		h := c.head().Load()
		switch {
		case cur > h && !rd.stale(cur):
			return Frame{}, false, corrupt("reader at frame %d, past the writer's %d", cur, h)
		case cur >= h:
			return Frame{}, false, nil
		case h-cur > n && over:
			rd.skip(cur, h-n, false)
			continue
		case h-cur > n && rd.stale(cur):
			continue
		case h-cur > n:
			return Frame{}, false, corrupt("reader at frame %d, writer at %d, with %d slots", cur, h, n)
		}
		e := c.logEntry(cur).Load()
		if e>>16 > cur+1 && over { // overwritten since
			rd.skip(cur, cur+1, false)
			continue
		}
		k := int(e & 0xffff)
		if (e>>16 != cur+1 || k >= int(n)) && rd.stale(cur) {
			continue
		}
		if e>>16 != cur+1 || k >= int(n) {
			return Frame{}, false, corrupt("log entry %#x for frame %d", e, cur)
		}
		if end, retry := rd.crosses(k, cur); retry {
			continue
		} else if end {
			return Frame{}, false, rd.end(io.EOF)
		}
		c.reader(rd.i, rHold).Store(cur + 1)
		if rd.r.cfg.mode == Queue && !c.qnext().CompareAndSwap(cur, cur+1) {
			c.reader(rd.i, rHold).Store(0) // another reader took it
			continue
		}
		// The claim first: the writer sets it before it looks for holds and
		// clears it only after marking the seq busy.
		if c.slot(k, sClaim).Load() != 0 || c.slot(k, sSeq).Load() != cur+1 {
			c.reader(rd.i, rHold).Store(0)
			if !over {
				return Frame{}, false, corrupt("slot %d does not hold frame %d", k, cur)
			}
			rd.skip(cur, cur+1, true) // being overwritten
			continue
		}
		rd.held, rd.seq = k, cur
		return Frame{Seq: cur, Stream: rd.stream, Index: c.slot(k, sIndex).Load(), Slot: k,
			Tag: c.slot(k, sTag).Load(), Time: time.Unix(0, int64(c.slot(k, sTime).Load())),
			data: rd.r.frame(k), r: rd.r}, true, nil
	}
}

// crosses looks, before taking frame cur from slot k, at the stream the
// frame belongs to: a reader between streams joins it; one in another
// stream has reached that stream's end (end). The slot's stream is read
// before its seq, which the writer marks busy before it writes a new
// stream there: a seq of cur+1 after it proves the stream is frame cur's.
// retry says a Queue reader's look was out of date.
func (rd *Reader) crosses(k int, cur uint64) (end, retry bool) {
	c := rd.c
	s := c.slot(k, sStream).Load()
	if c.slot(k, sSeq).Load() != cur+1 || s == uint64(rd.stream) {
		return false, false // overwritten meanwhile: the checks after the hold tell
	}
	if rd.stale(cur) {
		return false, true
	}
	if s == 0 || s > maxStream {
		return false, false // caught as corrupt below, or at the next look
	}
	if rd.stream == 0 {
		rd.stream = uint32(s)
		return false, false
	}
	return true, false
}

// end ends the reader's stream with err: the next Next waits for the
// next stream.
func (rd *Reader) end(err error) error {
	rd.last, rd.stream = rd.stream, 0
	return err
}

// stale reports whether a Queue reader's look at the shared cursor is out
// of date: other readers moved it, and the writer may have moved on.
func (rd *Reader) stale(cur uint64) bool {
	return rd.r.cfg.mode == Queue && rd.c.qnext().Load() != cur
}

func (rd *Reader) cursor() uint64 {
	if rd.r.cfg.mode == Queue {
		return rd.c.qnext().Load()
	}
	return rd.next
}

// skip moves the reader's cursor from cur to to, counting the frames in
// between as missed. In Queue mode the cursor is shared: only the reader
// that moves it counts them, or the one that had claimed the frame.
func (rd *Reader) skip(cur, to uint64, claimed bool) {
	if rd.r.cfg.mode == Queue {
		if !claimed && !rd.c.qnext().CompareAndSwap(cur, to) {
			return
		}
	} else {
		rd.next = to
		rd.c.reader(rd.i, rNext).Store(to)
	}
	rd.missed += to - cur
	rd.c.reader(rd.i, rMissed).Store(rd.missed)
}

// wait sleeps until the head may have moved past the reader's cursor,
// ctx is done, or the reader's stream has ended. Once a sleep has passed
// with no frame (a tick, or a stray wake), it also checks the writer's
// lock.
func (rd *Reader) wait(ctx context.Context, idle bool) error {
	c, cur := rd.c, rd.cursor()
	head := c.head()
	if poll(head, cur, rd.spin) {
		return nil
	}
	// Counted before flagged and unflagged before uncounted: a reader
	// that dies in between leaves the count high (a wasted wake per
	// publish), never low (a lost wake).
	c.waiters().Add(1)
	c.reader(rd.i, rAsleep).Store(1)
	// The writer word before the head: a state seen in it is then true
	// of every frame below the head seen after it.
	w := c.writer().Load()
	h := head.Load()
	err := rd.streamEnd(w, h <= cur, idle)
	if h <= cur && err == nil {
		err = sleep(ctx, futex32(head), uint32(h))
		if head.Load() > cur {
			err = nil
		}
	}
	c.reader(rd.i, rAsleep).Store(0)
	c.waiters().Add(^uint32(0))
	return err
}

// streamEnd looks at the writer word w. A reader between streams joins a
// live writer's stream (once drained: every frame below the head read);
// a drained reader in a stream that was closed or followed by another
// gets io.EOF, and one whose writer died an error wrapping
// io.ErrUnexpectedEOF (checked only if idle: it costs a system call).
func (rd *Reader) streamEnd(w uint64, drained, idle bool) error {
	state, s, pid := writerWord(w)
	switch {
	case !drained:
		return nil
	case rd.stream == 0:
		if state == writerLive && s != rd.last {
			rd.stream = s
		}
		return nil
	case s != rd.stream || state == writerClosed:
		return rd.end(io.EOF)
	case state == writerLive && idle:
		held, err := sys.Held(rd.fd, writerLock)
		if err != nil || held || rd.c.writer().Load() != w {
			return nil // alive, or just closed: the next look tells
		}
		return rd.end(fmt.Errorf("ring %s: writer (pid %d) died: %w", rd.r.Name(), pid, io.ErrUnexpectedEOF))
	}
	return nil
}
