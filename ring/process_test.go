package ring_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A reader process killed (SIGKILL) while it holds a frame does not
// wedge the writer: under Backpressure the writer's next Loan, stuck before,
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
		if pol == ring.Backpressure {
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
			r := newRing(t, 4, 8, mode, ring.Backpressure, 2)
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
	r := newRing(t, 4, 8, ring.Broadcast, ring.Backpressure, 2)
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

// A reader process killed at a random moment of a fast stream (asleep,
// holding, claiming, lagging) never stalls the writer or the other
// readers: they still get every frame (Broadcast) or a disjoint share
// (Queue), intact and in order, and the dead place is never listed alive.
func TestKillReaderMidStream(t *testing.T) {
	const n = 200_000
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 1, 8, mode, ring.Backpressure, 3)
			victim := start(t, "read", r.Name(), strconv.Itoa(n), "0")
			got := readers(t, r, 2, n, 0)
			if err := r.WaitReaders(t.Context(), 3); err != nil {
				t.Fatal(err)
			}
			delay := time.Duration(rand.IntN(100)) * time.Millisecond
			time.AfterFunc(delay, victim.kill)
			t0 := time.Now()
			stream(t, r, n)
			t.Logf("killed after %v; %d frames in %v; %+v", delay, n, time.Since(t0), r.Stat())
			res := []result{got[0](), got[1]()}
			for i, g := range res {
				if g.missed+g.bad+g.torn+g.disorder != 0 || g.count() != int(g.recv) ||
					mode == ring.Broadcast && g.recv != n {
					t.Errorf("reader %d: %+v, %d distinct of %d", i, g.counts, g.count(), n)
				}
			}
			if mode == ring.Queue {
				checkDisjoint(t, res)
			}
			victim.kill()
			for _, p := range r.Stat().Readers {
				if p.Alive {
					t.Errorf("place %d listed alive: %+v", p.Place, p)
				}
			}
		})
	}
}

// Writer processes killed at random moments, each followed by a new
// one, make one stream each: a reader sees every frame once, intact and
// in order, with no frame of a dead writer's unfinished loan.
func TestWriterRestarts(t *testing.T) {
	r := newRing(t, 64, 8, ring.Broadcast, ring.Backpressure, 1)
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	done := make(chan uint64)
	go func() { done <- readAll(t, r, rd) }()
	for range 5 {
		c := start(t, "write", r.Name(), "-1", "wait")
		c.expect("writer")
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		c.kill()
	}
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, w, 100, 5*time.Second)
	w.Close()
	if got, head := <-done, r.Stat().Head; got != head {
		t.Errorf("reader got %d frames of %d", got, head)
	}
}

// readAll reads, through writers' deaths, to the io.EOF of a stream that
// a writer closed, and checks that the frames are 0, 1, 2, … and intact;
// it returns how many it read.
func readAll(t *testing.T, r *ring.Ring, rd *ring.Reader) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var next uint64
	for {
		f, err := rd.Next(ctx)
		switch {
		case err == io.EOF && r.Stat().Writer == "closed" && r.Stat().Head == next:
			return next
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			continue // the next writer's stream follows
		case err != nil:
			t.Error(err)
			return next
		}
		if f.Seq != next || !intact(f.Bytes(), f.Seq) {
			t.Errorf("frame %d (intact %v), want %d", f.Seq, intact(f.Bytes(), f.Seq), next)
			return next
		}
		next++
	}
}

// stressFrames is how many 8-byte frames the stress tests push through
// two reader processes: a million (about 1.4 s here, 2.5 s under the
// race detector), or a tenth of that with -short.
func stressFrames() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// Under the Backpressure policy nothing is lost across processes: in Broadcast
// mode each reader process sees every frame once, in order; in Queue
// mode every frame goes to exactly one of them, each in order.
func TestStressBackpressure(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			n := stressFrames()
			r := newRing(t, 1, 64, mode, ring.Backpressure, 2)
			got := readers(t, r, 2, n, 0)
			t0 := time.Now()
			stream(t, r, n)
			res := []result{got[0](), got[1]()}
			t.Logf("%d frames in %v; readers got %d and %d", n, time.Since(t0), res[0].recv, res[1].recv)
			for i, g := range res {
				if g.missed+g.bad+g.torn+g.disorder != 0 {
					t.Errorf("reader %d: %+v", i, g.counts)
				}
			}
			if mode == ring.Broadcast {
				for i, g := range res {
					if g.recv != uint64(n) || g.count() != n {
						t.Errorf("reader %d received %d frames, %d distinct, of %d", i, g.recv, g.count(), n)
					}
				}
				return
			}
			checkShares(t, res, n)
		})
	}
}

// checkShares checks that readers' frames are disjoint and cover n.
func checkShares(t *testing.T, res []result, n int) {
	t.Helper()
	checkDisjoint(t, res)
	for i := range res[0].seen {
		if all := res[0].seen[i] | res[1].seen[i]; all != 0xff && (i+1)*8 <= n {
			t.Fatalf("frames near %d went to no reader (%08b)", i*8, all)
		}
	}
	if sum := res[0].recv + res[1].recv; sum != uint64(n) || res[0].count()+res[1].count() != n {
		t.Errorf("readers received %d frames (%d+%d distinct) of %d", sum, res[0].count(), res[1].count(), n)
	}
}

// stream publishes n frames, each filled and tagged with its sequence
// number, once the ring has its readers, then closes the writer.
func stream(t *testing.T, r *ring.Ring, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range n {
		f, err := w.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fill(f.Bytes(), f.Seq)
		w.Publish(f.Seq)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readers starts k reader processes holding each frame for delay, and
// waits until they have subscribed. Each returned function waits for
// one to finish and returns what it saw.
func readers(t *testing.T, r *ring.Ring, k, n int, delay time.Duration) []func() result {
	t.Helper()
	var res []func() result
	for range k {
		out := spawn(t, 4*time.Minute, "read", r.Name(), strconv.Itoa(n), delay.String())
		res = append(res, func() result { return parse(t, out(), n) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, k); err != nil {
		t.Fatal(err)
	}
	return res
}
