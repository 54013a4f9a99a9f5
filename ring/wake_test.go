package ring

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
)

// No wake is lost: frames paced so that the readers fall asleep before
// each one, and readers paced so that the writer falls asleep waiting
// for slots (for half the ring, in Broadcast), in each mode. A lost wake
// shows as a sleep that ran a whole tick although what it waited for had
// come: counted, not timed, so a slow machine does not fail the test
// and a fast one does not hide a loss. Every tenth pause lasts longer
// than a tick, so that a wake lost before it is not made good by the
// next frame's. One such sleep is tolerated: a waker descheduled for a
// tick between its store and its wake does that.
func TestNoLostWakes(t *testing.T) {
	const frames = 300
	for _, c := range []struct {
		name       string
		mode       Mode
		slots      int
		wgap, rgap time.Duration // after each publish, after each frame read
	}{
		{"broadcast/readers-sleep", Broadcast, 8, 300 * time.Microsecond, 0},
		{"broadcast/writer-sleeps", Broadcast, 8, 0, 300 * time.Microsecond},
		{"queue/readers-sleep", Queue, 8, 300 * time.Microsecond, 0},
		{"queue/writer-sleeps", Queue, 4, 0, 300 * time.Microsecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := CreateAnon(Config{DType: ndshm.Uint64, Frame: []int{1}, Slots: c.slots, Mode: c.mode})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			lost0, slept0 := lostWakes.Load(), futexSleeps.Load()
			got := wakeReaders(t, r, 2, c.rgap)
			w, err := r.Writer()
			if err != nil {
				t.Fatal(err)
			}
			for i := range frames {
				if _, err := w.Loan(context.Background()); err != nil {
					t.Fatal(err)
				}
				w.Publish(0)
				pause(i, c.wgap)
			}
			w.Close()
			n := got()
			lost, slept := lostWakes.Load()-lost0, futexSleeps.Load()-slept0
			t.Logf("%d frames read, %d futex sleeps, %d lost wakes", n, slept, lost)
			if want := frames * map[Mode]int{Broadcast: 2, Queue: 1}[c.mode]; n != want {
				t.Errorf("readers got %d frames, want %d", n, want)
			}
			if slept < frames/4 {
				t.Errorf("only %d futex sleeps: the test did not make anyone sleep", slept)
			}
			if lost > 1 {
				t.Errorf("%d of %d sleeps lasted a tick although their wake was due", lost, slept)
			}
		})
	}
}

// wakeReaders starts n readers that pause for gap after each frame;
// got waits for them to end and returns the frames they read.
func wakeReaders(t *testing.T, r *Ring, n int, gap time.Duration) (got func() int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	for range n {
		rd, err := r.Reader()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer rd.Close()
			k := 0
			defer func() { mu.Lock(); total += k; mu.Unlock() }()
			for {
				_, err := rd.Next(ctx)
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				pause(k, gap)
				k++
			}
		})
	}
	return func() int {
		wg.Wait()
		cancel()
		return total
	}
}

// pause sleeps for gap after the i-th frame, or, after every tenth, for
// longer than a tick.
func pause(i int, gap time.Duration) {
	switch {
	case gap == 0:
	case i%10 == 9:
		time.Sleep(tick + 5*time.Millisecond)
	default:
		time.Sleep(gap)
	}
}
