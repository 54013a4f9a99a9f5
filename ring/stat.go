package ring

import (
	"context"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// Stat is a snapshot of a ring's cursors, read without stopping anyone:
// the numbers may be a few frames apart from each other.
type Stat struct {
	Name       string       `json:"name"`
	Mode       string       `json:"mode"`
	Policy     string       `json:"policy"`
	Slots      int          `json:"slots"`
	FrameBytes int          `json:"frame_bytes"`
	Head       uint64       `json:"head"`   // frames published
	Writer     string       `json:"writer"` // none, live, closed or dead
	WriterPID  int          `json:"writer_pid,omitempty"`
	Stream     uint32       `json:"stream"`               // the last writer's stream, 0 before the first
	QueueNext  uint64       `json:"queue_next,omitempty"` // Queue mode: next frame to claim
	Readers    []ReaderStat `json:"readers"`
}

// ReaderStat is one subscribed reader's place.
type ReaderStat struct {
	Place    int    `json:"place"`
	PID      int    `json:"pid"`
	Alive    bool   `json:"alive"`
	Next     uint64 `json:"next"`    // Broadcast: the next frame it reads
	Lag      uint64 `json:"lag"`     // frames published it has not read
	Holding  int64  `json:"holding"` // the frame it holds, or -1
	Missed   uint64 `json:"missed"`
	Received uint64 `json:"received"`
}

// Stat reports the writer's position and every subscribed reader's.
// Liveness comes from the kernel's locks, not from pids.
func (r *Ring) Stat() Stat {
	c := r.c
	st := Stat{Name: r.Name(), Mode: r.cfg.mode.String(), Policy: r.cfg.policy.String(),
		Slots: r.cfg.slots, FrameBytes: r.cfg.frame, Head: c.head().Load(),
		Readers: []ReaderStat{}}
	if r.cfg.mode == Queue {
		st.QueueNext = c.qnext().Load()
	}
	state, stream, pid := writerWord(c.writer().Load())
	st.Writer, st.WriterPID, st.Stream = [...]string{"none", "live", "closed", "unknown"}[state], pid, stream
	if held, _ := sys.Held(r.fd, writerLock); state == writerLive && !held {
		st.Writer = "dead"
	}
	for i := range c.readers {
		s := c.reader(i, rState).Load()
		if s&1 == 0 {
			continue
		}
		rs := ReaderStat{Place: i, PID: int(s >> 32), Next: c.reader(i, rNext).Load(),
			Holding: int64(c.reader(i, rHold).Load()) - 1,
			Missed:  c.reader(i, rMissed).Load(), Received: c.reader(i, rRecv).Load()}
		rs.Alive, _ = sys.Held(r.fd, readerLock+int64(i))
		cur := rs.Next
		if r.cfg.mode == Queue {
			cur = st.QueueNext
		}
		if st.Head > cur {
			rs.Lag = st.Head - cur
		}
		st.Readers = append(st.Readers, rs)
	}
	return st
}

// WaitReaders waits until at least n readers are subscribed, polling
// every millisecond: a writer that must not publish to nobody starts
// with it. A reader counts once its position is set, so every frame
// published after WaitReaders returns reaches it (or counts as missed).
func (r *Ring) WaitReaders(ctx context.Context, n int) error {
	for {
		live := 0
		for i := range r.c.readers {
			if r.c.reader(i, rState).Load()&statePositioned != 0 {
				live++
			}
		}
		if live >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
