package ring

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// tick is the longest one sleep lasts: how soon a waiter notices a
// cancelled context, a dead peer, or a wake a Python peer never sent.
const tick = 20 * time.Millisecond

// sleepers bounds this process's threads asleep in FUTEX_WAIT: each one
// pins an OS thread. Waiters beyond it poll every millisecond instead.
var sleepers = make(chan struct{}, 16)

// sleep waits while *word == val, for at most a tick and never past
// ctx's deadline, and returns ctx's error once it has one.
func sleep(ctx context.Context, word *uint32, val uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := tick
	if dl, ok := ctx.Deadline(); ok {
		if d = min(d, time.Until(dl)); d <= 0 {
			return context.DeadlineExceeded
		}
	}
	select {
	case sleepers <- struct{}{}:
		sys.FutexWait(word, val, d)
		<-sleepers
	default:
		time.Sleep(min(d, time.Millisecond))
	}
	return ctx.Err()
}

// minPoll is how long a waiter polls before it sleeps even without
// SetSpin: a peer that is keeping up usually answers within it, and a
// futex wait and wake would cost several times as much
// (BenchmarkRingSPSC/block: 2.1-2.3M frames/s with it, 1.1-1.4M without).
const minPoll = 2 * time.Microsecond

// poll reports whether w passes cur within max(d, minPoll).
func poll(w *atomic.Uint64, cur uint64, d time.Duration) bool {
	end := time.Now().Add(max(d, minPoll))
	for w.Load() <= cur {
		if !time.Now().Before(end) {
			return false
		}
	}
	return true
}

// wake wakes every thread asleep on word, in any process.
func wake(word *uint32) { sys.FutexWake(word, 1<<30) }

// Lock bytes, far past the end of any block like package lock's regions
// (which start at 2^62) but apart from them: the writer's, then one per
// reader place. The kernel drops them with their holder.
const (
	writerLock = 1 << 61
	readerLock = writerLock + 1
)

// notifyWriter tells a writer waiting for a free slot that one may have
// freed. Callers have already stored what freed it; the writer sets
// wwaits before it re-checks, so one of the two always sees the other.
func (c ctl) notifyWriter() {
	if c.wwaits().Load() != 0 {
		c.freed().Add(1)
		wake(word32(c.freed()))
	}
}
