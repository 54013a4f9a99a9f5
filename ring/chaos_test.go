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

// A reader process killed at a random moment of a fast stream (asleep,
// holding, claiming, lagging) never stalls the writer or the other
// readers: they still get every frame (Broadcast) or a disjoint share
// (Queue), intact and in order, and the dead place is never listed alive.
func TestKillReaderMidStream(t *testing.T) {
	const n = 200_000
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 1, 8, mode, ring.Block, 3)
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
	r := newRing(t, 64, 8, ring.Broadcast, ring.Block, 1)
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
