package ring_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A reader process killed (SIGKILL) while it holds a frame does not
// wedge the writer: under Block the writer's next Loan, stuck before,
// succeeds once the kernel has dropped the reader's lock, and its place
// is reclaimed; under Overwrite the writer never stops, and the dead
// reader's place is reclaimed as the writer passes its frame by.
func TestReaderKilledHolding(t *testing.T) {
	each(t, func(t *testing.T, mode ring.Mode, pol ring.Policy) {
		r := newRing(t, 4, 2, mode, pol, 2)
		c := start(t, "hold", r.Name())
		c.expect("ready")
		w, err := r.Writer()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		publish(t, w, 1, 5*time.Second)
		c.expect("held 0")
		publish(t, w, 1, 5*time.Second) // fills the other slot
		if st := r.Stat(); len(st.Readers) != 1 || !st.Readers[0].Alive || st.Readers[0].Holding != 0 ||
			st.Readers[0].PID != c.cmd.Process.Pid {
			t.Fatalf("holder's place: %+v", st.Readers)
		}
		if pol == ring.Block {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := w.Loan(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Loan with every slot held: %v, want a deadline error", err)
			}
		}
		c.kill()
		if st := r.Stat(); len(st.Readers) != 1 || st.Readers[0].Alive {
			t.Fatalf("dead holder's place before the writer looked: %+v", st.Readers)
		}
		t0 := time.Now()
		for len(r.Stat().Readers) != 0 { // Overwrite reclaims while it publishes
			if time.Since(t0) > 5*time.Second {
				t.Fatalf("dead reader still listed: %+v", r.Stat().Readers)
			}
			publish(t, w, 1, 5*time.Second)
		}
		t.Logf("writer went on %v after the kill", time.Since(t0))
	})
}

// A writer process killed mid-stream ends a waiting reader's stream with
// an error wrapping io.ErrUnexpectedEOF, within a few ticks, after the
// frames it had published.
func TestWriterKilled(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 4, 8, mode, ring.Block, 2)
			rd, err := r.Reader()
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			c := start(t, "write", r.Name(), "-1", "wait")
			c.expect("writer 0")
			next := expectRun(t, rd, 0, 100)
			c.kill()
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			for {
				f, err := rd.Next(ctx)
				if err != nil {
					t.Logf("%v after the kill, frame %d: %v", time.Since(t0), next, err)
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("want io.ErrUnexpectedEOF, got %v", err)
					}
					break
				}
				if f.Seq != next || !intact(f.Bytes(), f.Seq) {
					t.Fatalf("frame %d, want %d, intact %v", f.Seq, next, intact(f.Bytes(), f.Seq))
				}
				next++
			}
			if st := r.Stat(); st.Writer != "dead" {
				t.Errorf("Stat says the writer is %q, want dead", st.Writer)
			}
		})
	}
}

// A writer process that closes ends its stream cleanly: every frame it
// published, then io.EOF; after it the reader waits for the next writer.
func TestWriterCloses(t *testing.T) {
	r := newRing(t, 4, 8, ring.Broadcast, ring.Block, 2)
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	c := start(t, "write", r.Name(), "1000", "close")
	expectRun(t, rd, 0, 1000)
	c.expect("writer 0")
	c.expect("closed")
	expectEOF(t, rd)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	f, err := rd.Next(ctx)
	cancel()
	if err != context.DeadlineExceeded {
		t.Fatalf("after the end of the stream: frame %d, %v; want to wait for the next writer", f.Seq, err)
	}
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
}
