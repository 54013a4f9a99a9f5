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
// ctx's deadline, and returns ctx's error once it has one. timedOut says
// that no wake came: the sleep ran its whole course.
func sleep(ctx context.Context, word *uint32, val uint32) (timedOut bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d := tick
	if dl, ok := ctx.Deadline(); ok {
		if d = min(d, time.Until(dl)); d <= 0 {
			return false, context.DeadlineExceeded
		}
	}
	select {
	case sleepers <- struct{}{}:
		futexSleeps.Add(1)
		timedOut = sys.FutexWait(word, val, d) && d == tick
		<-sleepers
	default:
		time.Sleep(min(d, time.Millisecond))
	}
	return timedOut, ctx.Err()
}

// lostWakes counts sleeps that lasted a whole tick although what they
// waited for (a frame, a free slot) had come by the end: a wake that
// should have come and did not, or a peer that sends none (a Python peer
// without futexes). Tests check it stays 0 with Go peers.
// futexSleeps counts sleeps in FUTEX_WAIT, which tests compare it with.
var lostWakes, futexSleeps atomic.Uint64

// minPoll is how long a waiter polls before it sleeps even without
// SetSpin: a peer that is keeping up usually answers within it, and a
// futex wait and wake would cost several times as much
// (BenchmarkRingSPSC/block: 2.1-2.3M frames/s with it, 1.1-1.4M without).
const minPoll = 2 * time.Microsecond

// poll reports whether w passes cur within max(d, minPoll). Past
// minPoll it yields the CPU between looks: on a machine with more
// runnable threads than cores, the peer it waits for may need this one.
func poll(w *atomic.Uint64, cur uint64, d time.Duration, yield bool) bool {
	start := time.Now()
	end := start.Add(max(d, minPoll))
	for w.Load() <= cur {
		now := time.Now()
		if !now.Before(end) {
			return false
		}
		if yield && now.Sub(start) > minPoll {
			sys.Yield()
		}
	}
	return true
}

// maxAdapt bounds the polling a waiter learns: a futex sleep and wake
// cost about this much here, so a frame or slot that comes later than
// this is cheaper to sleep for.
const maxAdapt = 50 * time.Microsecond

// adaptive is how long a waiter polls before it sleeps, learned from how
// long its last waits took.
type adaptive struct{ d time.Duration }

// learn adapts to a wait of d: events that come within maxAdapt of each
// other are polled for (a little longer than the last one took); slower
// ones halve the polling, down to none.
func (a *adaptive) learn(d time.Duration) {
	if d <= maxAdapt {
		a.d = min(maxAdapt, d+d/2)
	} else {
		a.d /= 2
	}
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

// The writer's wwaits word says what it waits for while it sleeps on
// freed: 0, nothing (it is awake); 1, any release; else
// uint32(v)<<1 | 1, the release of frame v-1, i.e. a reader whose next
// reaches v (compared modulo 2^31). A writer blocked by a full ring waits
// for half of it to drain rather than for one slot, so that it sleeps
// and is woken once per half a ring, not once per frame. Anything that
// wakes it early is safe (it looks again, and sleeps again); a wake sent
// late would cost it a tick.
const wakeAny = 1

// wantRelease is wwaits' value for a writer that waits for frame v-1's
// release. A value that comes out as wakeAny only wakes it sooner.
// A v of 0 (no frame in particular) is wakeAny.
func wantRelease(v uint64) uint32 { return uint32(v)<<1 | 1 }

// notifyWriter tells a writer waiting for a free slot that one may have
// freed: a reader's next (Broadcast), or the frame it released, is now
// at next (0: something else changed, such as a reader that joined or
// left, which always wakes it). Callers have already stored what freed
// it; the writer sets wwaits before it re-checks, so one of the two
// always sees the other.
func (c ctl) notifyWriter(next uint64) {
	want := c.wwaits().Load()
	if want == 0 || next != 0 && want != wakeAny && int32(wantRelease(next)-want) < 0 {
		return
	}
	c.freed().Add(1)
	wake(word32(c.freed()))
}
