package ring_test

import (
	"context"
	"errors"
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
			r := newRing(t, 8, 16, mode, ring.Block, 2)
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
	r := newRing(t, 8, 4, ring.Broadcast, ring.Block, 1)
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
