package ring_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// A ring carries one stream per writer, any number of them in a row:
// a reader that subscribes between streams waits for the next writer
// (it does not see the last one's end), then reads that writer's frames,
// indexed from 0 in its stream and numbered by stream, and io.EOF when
// it closes. The writers are other processes.
func TestStreams(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 8, 4, mode, ring.Block, 2)
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
