package ring

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

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
			data: rd.r.frame(k)}, true, nil
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
