package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/ring"
)

// A reader killed while asleep in Next is taken out of the sleeper count
// by whoever takes its place over, the writer reclaiming it or a new
// reader joining in it: otherwise every publish would pay a futex wake
// for a reader that will never wake.
func TestDeadSleeperUncounted(t *testing.T) {
	for _, by := range []string{"writer", "joiner"} {
		t.Run(by, func(t *testing.T) {
			r := newRing(t, 1, 2, ring.Broadcast, ring.Backpressure, 2)
			sleepers := func() uint32 { return binary.LittleEndian.Uint32(block.Of(r.Block()).Control()[128:]) }
			c := start(t, "hold", r.Name())
			c.expect("ready")
			for t0 := time.Now(); sleepers() != 1; time.Sleep(time.Millisecond) {
				if time.Since(t0) > 5*time.Second {
					t.Fatalf("the reader never slept: %d sleepers", sleepers())
				}
			}
			c.kill()
			if n := sleepers(); n != 1 {
				t.Fatalf("after the kill: %d sleepers, want the dead one still counted", n)
			}
			switch by {
			case "writer": // blocks on the dead reader's cursor, then reclaims it
				w, err := r.Writer()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				publish(t, w, 3, 5*time.Second)
			case "joiner": // place 0 is the dead reader's
				rd, err := r.Reader()
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
			}
			if n := sleepers(); n != 0 {
				t.Errorf("after the %s took the place: %d sleepers, want 0", by, n)
			}
		})
	}
}

// ctxCases are contexts that end before, or while, a call waits.
var ctxCases = []struct {
	name string
	ctx  func() (context.Context, context.CancelFunc)
	want error
}{
	{"cancelled before", func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	}, context.Canceled},
	{"deadline passed", func() (context.Context, context.CancelFunc) {
		return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	}, context.DeadlineExceeded},
	{"deadline while waiting", func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 50*time.Millisecond)
	}, context.DeadlineExceeded},
	{"cancelled while waiting", func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		return ctx, cancel
	}, context.Canceled},
}

// A Reader with nothing to read, and a Writer with no free slot, return
// their context's error as soon as it ends (well within a second), not
// a tick-bound poll's worth of seconds later.
func TestContextEnds(t *testing.T) {
	for _, c := range ctxCases {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(t, 1, 1, ring.Broadcast, ring.Backpressure, 1)
			rd, w := pair(t, r)
			// Next: the writer lives but publishes nothing.
			ctx, cancel := c.ctx()
			t0 := time.Now()
			_, err := rd.Next(ctx)
			cancel()
			if d := time.Since(t0); !errors.Is(err, c.want) || d > time.Second {
				t.Errorf("Next: %v after %v, want %v", err, d, c.want)
			}
			// Loan: the one slot's frame is unread.
			publish(t, w, 1, time.Second)
			ctx, cancel = c.ctx()
			t0 = time.Now()
			_, err = w.Loan(ctx)
			cancel()
			if d := time.Since(t0); !errors.Is(err, c.want) || d > time.Second {
				t.Errorf("Loan: %v after %v, want %v", err, d, c.want)
			}
		})
	}
}

// More readers wait at once than may sleep in the kernel (16): those
// beyond poll, and every one still gets the frame, or its deadline.
func TestManyWaiters(t *testing.T) {
	const n = 40
	r := newRing(t, 1, 2, ring.Broadcast, ring.Backpressure, n)
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var wg sync.WaitGroup
	for range n {
		rd, err := r.Reader()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer rd.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if f, err := rd.Next(ctx); err != nil || f.Seq != 0 {
				t.Errorf("first frame %d: %v", f.Seq, err)
			}
			short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel2()
			if _, err := rd.Next(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("second frame: %v, want a deadline error", err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // so they wait
	publish(t, w, 1, time.Second)
	wg.Wait()
}
