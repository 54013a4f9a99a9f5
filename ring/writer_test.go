package ring_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A ring has one live writer: a second one fails with fs.ErrExist, in
// the same process or another. After a writer process is killed (holding
// a half-written loan), a new writer takes over and continues the
// sequence in a new stream: readers see the dead writer's frames, the
// end of its stream, then the new one's, without the lost loan.
func TestSecondWriter(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 8, 16, mode, ring.Backpressure, 2)
			rd, err := r.Reader()
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			c := start(t, "write", r.Name(), "10", "loan")
			c.expect("writer 0")
			c.expect("loaned 10")
			expectNoWriter(t, r)
			if st := r.Stat(); st.Writer != "live" || st.WriterPID != c.cmd.Process.Pid {
				t.Errorf("Stat: writer %s pid %d, want live pid %d", st.Writer, st.WriterPID, c.cmd.Process.Pid)
			}
			c.kill()
			if st := r.Stat(); st.Writer != "dead" {
				t.Errorf("Stat: writer %s after the kill", st.Writer)
			}
			w, err := r.Writer()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			publish(t, w, 2, time.Second)
			expectRun(t, rd, 0, 10)
			expectEOF(t, rd)
			expectRun(t, rd, 10, 2)
			expectNoWriter(t, r)
		})
	}
}

// A writer that closed cleanly can be followed by another, which starts
// a new stream at the head: a reader sees each stream end with io.EOF,
// then the next, its frames indexed from 0 and numbered by stream.
func TestWriterAfterClose(t *testing.T) {
	r := newRing(t, 8, 4, ring.Broadcast, ring.Backpressure, 1)
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for i := range 3 {
		w, err := r.Writer()
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		publish(t, w, 3, time.Second)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		for j := range 3 {
			f, err := rd.Next(ctx)
			if err != nil || f.Seq != uint64(3*i+j) || f.Stream != uint32(i+1) || f.Index != uint64(j) {
				t.Fatalf("frame %d %+v, %v", 3*i+j, f, err)
			}
		}
		cancel()
		expectEOF(t, rd)
	}
	if h := r.Stat().Head; h != 9 {
		t.Errorf("head %d after three writers of 3 frames", h)
	}
}

func expectNoWriter(t *testing.T, r *ring.Ring) {
	t.Helper()
	w, err := r.Writer()
	if err == nil {
		w.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a second writer: %v, want fs.ErrExist", err)
	}
}

// A reader process that never releases its frame, under Overwrite: the
// writer never waits, another reader keeps receiving newer frames (and
// counts those it fell behind on as missed), and the held frame is never
// overwritten: intact, and its Release returns nil.
func TestNeverReleaseOverwrite(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			c, rd, w := holding(t, mode, ring.Overwrite)
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

// A reader process that never releases its frame, under Backpressure: the
// writer's Loan fails with its context's deadline once it needs that
// slot, though another reader has read everything, and goes on as soon
// as the frame is released.
func TestNeverReleaseBackpressure(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			c, rd, w := holding(t, mode, ring.Backpressure)
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

// Under Overwrite, two reader processes that hold each frame far longer
// than the writer takes to publish one never see a torn frame: each one
// they receive is intact after the hold and releases cleanly, and they
// come in order. Every frame is accounted for once: received or missed
// by each reader (Broadcast), or by exactly one of them (Queue).
func TestOverwriteSlowReaders(t *testing.T) {
	const n = 200_000
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		for _, slots := range []int{3, 16} { // 3: one free slot beside two holds
			t.Run(fmt.Sprintf("%v/%d", mode, slots), func(t *testing.T) {
				r := newRing(t, 64, slots, mode, ring.Overwrite, 2)
				got := readers(t, r, 2, n, 20*time.Microsecond)
				stream(t, r, n)
				res := []result{got[0](), got[1]()}
				var all uint64
				for i, g := range res {
					t.Logf("reader %d: %+v", i, g.counts)
					if g.bad+g.torn+g.disorder != 0 || g.count() != int(g.recv) || g.recv == 0 {
						t.Errorf("reader %d: %+v, %d distinct", i, g.counts, g.count())
					}
					if mode == ring.Broadcast && (g.recv+g.missed != n || g.missed == 0) {
						t.Errorf("reader %d received %d and missed %d of %d", i, g.recv, g.missed, n)
					}
					all += g.recv + g.missed
				}
				if mode == ring.Queue {
					if all != n {
						t.Errorf("readers received or missed %d of %d", all, n)
					}
					checkDisjoint(t, res)
				}
			})
		}
	}
}

// holding makes a ring of 4 slots with a reader process that holds frame
// 0 and never releases it, and a reader and writer here; frame 0 is
// published and held when it returns.
func holding(t *testing.T, mode ring.Mode, pol ring.Policy) (*child, *ring.Reader, *ring.Writer) {
	t.Helper()
	r := newRing(t, 64, 4, mode, pol, 2)
	c := start(t, "hold", r.Name())
	c.expect("ready")
	rd, w := pair(t, r)
	publish(t, w, 1, time.Second)
	c.expect("held 0")
	return c, rd, w
}
