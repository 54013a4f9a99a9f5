package ring_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A reader process that never releases its frame, under Overwrite: the
// writer never waits, another reader keeps receiving newer frames (and
// counts those it fell behind on as missed), and the held frame is never
// overwritten: intact, and its Release returns nil.
func TestNeverReleaseOverwrite(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 64, 4, mode, ring.Overwrite, 2)
			c := start(t, "hold", r.Name())
			c.expect("ready")
			rd, w := pair(t, r)
			publish(t, w, 1, time.Second)
			c.expect("held 0")
			next := uint64(1) // Queue: frame 0 was the holder's
			if mode == ring.Broadcast {
				expectRun(t, rd, 0, 1)
			}
			for range 1000 {
				publish(t, w, 1, time.Second)
				next = expectRun(t, rd, next, 1)
			}
			publish(t, w, 1000, time.Second) // rd falls behind
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if f, err := rd.Next(ctx); err != nil || f.Seq <= next || !intact(f.Bytes(), f.Seq) || rd.Missed() == 0 {
				t.Fatalf("after falling behind: frame %d (%v), missed %d", f.Seq, err, rd.Missed())
			}
			c.say("check")
			c.expect("intact true true")
			c.expect("release <nil>")
			var seq, missed uint64
			if _, err := fmt.Sscan(c.expect("next ")[5:], &seq, &missed); err != nil {
				t.Fatal(err)
			}
			if seq <= next || mode == ring.Broadcast && missed == 0 {
				t.Errorf("holder's next frame %d after missing %d", seq, missed)
			}
		})
	}
}

// A reader process that never releases its frame, under Block: the
// writer's Loan fails with its context's deadline once it needs that
// slot, though another reader has read everything, and goes on as soon
// as the frame is released.
func TestNeverReleaseBlock(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 64, 4, mode, ring.Block, 2)
			c := start(t, "hold", r.Name())
			c.expect("ready")
			rd, w := pair(t, r)
			publish(t, w, 1, time.Second)
			c.expect("held 0")
			publish(t, w, 3, time.Second)
			expectRun(t, rd, uint64(mode), 4-int(mode)) // all but the holder's
			rd.Release()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if f, err := w.Loan(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Loan of frame %d while slot 0 is held: %v, want a deadline error", f.Seq, err)
			}
			c.say("check")
			c.expect("intact true true")
			c.expect("release <nil>")
			publish(t, w, 1, 5*time.Second)
			want := map[ring.Mode]string{ring.Broadcast: "next 1 0", ring.Queue: "next 4 0"}[mode]
			c.expect(want)
		})
	}
}
