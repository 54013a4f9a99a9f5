package ring

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"
)

// TestHeapStreams: three writers in a row on one ring, over heap memory
// (run it with -race). A reader subscribed throughout gets every stream,
// each ended by io.EOF; in Broadcast mode a second one, subscribed after
// the first writer closed, waits for the second stream instead of
// seeing the first one's end. Frames carry their stream, their index in
// it and the ring-wide sequence number.
func TestHeapStreams(t *testing.T) {
	const streams, m = 3, 2000
	for _, mode := range []Mode{Broadcast, Queue} {
		for _, pol := range []Policy{Block, Overwrite} {
			t.Run(fmt.Sprintf("%v/%v", mode, pol), func(t *testing.T) {
				r := heapRing(t, mode, pol, 3, 16, 2)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				ends := make(chan struct{}, 2)
				var wg sync.WaitGroup
				join := func(first uint32) {
					rd, err := r.Reader()
					if err != nil {
						t.Fatal(err)
					}
					wg.Go(func() { readStreams(t, ctx, rd, first, streams, m, ends) })
				}
				join(1)
				readers := 1
				for s := uint32(1); s <= streams; s++ {
					if s == 2 && mode == Broadcast {
						join(2)
						readers++
					}
					writeStream(t, ctx, r, m)
					for range readers { // every reader saw this stream end
						select {
						case <-ends:
						case <-ctx.Done():
							t.Fatalf("stream %d: %v", s, ctx.Err())
						}
					}
				}
				wg.Wait()
			})
		}
	}
}

func writeStream(t *testing.T, ctx context.Context, r *Ring, m int) {
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range m {
		f, err := w.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fillSeq(f.Bytes(), f.Seq)
		w.Publish(f.Index)
	}
}

// readStreams reads streams first to last, checking that each one's
// frames come in order and intact and that it ends with io.EOF.
func readStreams(t *testing.T, ctx context.Context, rd *Reader, first, last uint32, m int, ends chan<- struct{}) {
	defer rd.Close()
	exact := rd.r.cfg.policy == Block
	for s := first; s <= last; s++ {
		prev := -1
		for {
			f, err := rd.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("stream %d after frame %d: %v", s, prev, err)
				return
			}
			i := int(f.Index)
			if f.Stream != s || i <= prev || exact && i != prev+1 || i >= m || f.Tag != f.Index || !holdsSeq(f.Bytes(), f.Seq) {
				t.Errorf("stream %d after frame %d: %+v", s, prev, f)
				return
			}
			prev = i
			if err := rd.Release(); err != nil {
				t.Error(err)
			}
		}
		if exact && prev != m-1 {
			t.Errorf("stream %d ended after frame %d of %d", s, prev, m)
			return
		}
		ends <- struct{}{}
	}
}
