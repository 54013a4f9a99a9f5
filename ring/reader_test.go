package ring_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A Broadcast subscriber that joins while a writer process is streaming
// sees frames from the head at its join on, in order, and never one
// published before it joined: under Backpressure a contiguous run starting
// between the heads read just before and just after Reader; under
// Overwrite an increasing run whose gaps its Missed count accounts for.
func TestJoinMidStream(t *testing.T) {
	for _, pol := range []ring.Policy{ring.Backpressure, ring.Overwrite} {
		t.Run(pol.String(), func(t *testing.T) {
			r := newRing(t, 8, 8, ring.Broadcast, pol, 2)
			c := start(t, "write", r.Name(), "-1", "wait")
			c.expect("writer 0")
			for range 3 {
				waitHead(t, r, r.Stat().Head+1000)
				h0 := r.Stat().Head
				rd, err := r.Reader()
				if err != nil {
					t.Fatal(err)
				}
				h1 := r.Stat().Head
				first, last := readJoined(t, rd, 2000, pol == ring.Backpressure)
				if first < h0 || pol == ring.Backpressure && first > h1 {
					t.Errorf("joined between heads %d and %d, first frame %d", h0, h1, first)
				}
				// Every frame from the join on was received or missed.
				if n := 2000 + rd.Missed(); n > last+1-h0 || n < last+1-h1 {
					t.Errorf("joined at %d…%d, read to %d: 2000 received + %d missed", h0, h1, last, rd.Missed())
				}
				rd.Close()
			}
			if err := c.end(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// readJoined reads n frames, which must be intact and increasing (and
// contiguous if it says so), and returns the first and last seq.
func readJoined(t *testing.T, rd *ring.Reader, n int, contiguous bool) (first, last uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		f, err := rd.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !intact(f.Bytes(), f.Seq) || i > 0 && (f.Seq <= last || contiguous && f.Seq != last+1) {
			t.Fatalf("frame %d after %d, intact %v", f.Seq, last, intact(f.Bytes(), f.Seq))
		}
		if i == 0 {
			first = f.Seq
		}
		last = f.Seq
		if err := rd.Release(); err != nil {
			t.Fatal(err)
		}
	}
	return first, last
}

// waitHead waits until the ring's writer has published n frames.
func waitHead(t *testing.T, r *ring.Ring, n uint64) {
	t.Helper()
	for t0 := time.Now(); r.Stat().Head < n; time.Sleep(time.Millisecond) {
		if time.Since(t0) > 10*time.Second {
			t.Fatalf("head %d, want %d", r.Stat().Head, n)
		}
	}
}

// A ring carries one stream per writer, any number of them in a row:
// a reader that subscribes between streams waits for the next writer
// (it does not see the last one's end), then reads that writer's frames,
// indexed from 0 in its stream and numbered by stream, and io.EOF when
// it closes. The writers are other processes.
func TestStreams(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 8, 4, mode, ring.Backpressure, 2)
			for s := range 3 {
				rd, err := r.Reader()
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				f, err := rd.Next(ctx)
				cancel()
				if err != context.DeadlineExceeded {
					t.Fatalf("stream %d: a reader between streams got frame %d, %v; want it to wait", s+1, f.Seq, err)
				}
				c := start(t, "write", r.Name(), "5", "close")
				c.expect("writer")
				readStream(t, rd, uint32(s+1), uint64(5*s), 5)
				expectEOF(t, rd)
				c.expect("closed")
				if err := c.end(); err != nil {
					t.Fatal(err)
				}
				rd.Close()
			}
		})
	}
}

// readStream expects n frames of stream s, the first of them frame seq.
func readStream(t *testing.T, rd *ring.Reader, s uint32, seq uint64, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range n {
		f, err := rd.Next(ctx)
		want := fmt.Sprintf("stream %d index %d seq %d", s, i, seq+uint64(i))
		if err != nil {
			t.Fatalf("want %s: %v", want, err)
		}
		if got := fmt.Sprintf("stream %d index %d seq %d", f.Stream, f.Index, f.Seq); got != want || !intact(f.Bytes(), f.Seq) {
			t.Fatalf("got %s (intact %v), want %s", got, intact(f.Bytes(), f.Seq), want)
		}
	}
}
