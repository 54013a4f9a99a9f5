package ring

import (
	"context"
	"io"
	"testing"
	"time"
)

// heapRead is one reader goroutine's account.
type heapRead struct {
	got    []bool // got[s]: frame s received intact
	recv   int
	missed uint64
}

// readHeap reads rd to the end of the stream, checking every frame after
// holding it for hold, and that frames come in order.
func readHeap(t *testing.T, ctx context.Context, rd *Reader, n int, hold time.Duration) heapRead {
	defer rd.Close()
	a := heapRead{got: make([]bool, n)}
	prev := -1
	for {
		f, err := rd.Next(ctx)
		if err == io.EOF {
			a.missed = rd.Missed()
			return a
		}
		if err != nil {
			t.Error(err)
			return a
		}
		for end := time.Now().Add(hold); time.Now().Before(end); {
		}
		if s := int(f.Seq); s <= prev || s >= n || !holdsSeq(f.Bytes(), f.Seq) || f.Tag != f.Seq {
			t.Errorf("frame %d (after %d) tag %d is not intact", f.Seq, prev, f.Tag)
		} else {
			a.got[s] = true
		}
		if err := rd.Release(); err != nil {
			t.Error(err)
		}
		prev, a.recv = int(f.Seq), a.recv+1
	}
}

// writeHeap publishes n frames, each written plainly with its sequence
// number and tagged with it, then ends the stream.
func writeHeap(t *testing.T, ctx context.Context, r *Ring, n int) {
	t.Helper()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range n {
		f, err := w.Loan(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		fillSeq(f.Bytes(), f.Seq)
		if err := w.Publish(f.Seq); err != nil {
			t.Error(err)
			return
		}
	}
}

// checkHeap checks the readers' accounts of n frames: every frame is
// received or counted missed, once per reader (Broadcast) or once in all
// (Queue), and none is missed under Block.
func checkHeap(t *testing.T, mode Mode, pol Policy, res []heapRead, n int) {
	t.Helper()
	t.Logf("received %d and %d, missed %d and %d", res[0].recv, res[1].recv, res[0].missed, res[1].missed)
	if mode == Broadcast {
		for i, a := range res {
			if a.recv+int(a.missed) != n || pol == Block && a.missed != 0 {
				t.Errorf("reader %d received %d and missed %d of %d frames", i, a.recv, a.missed, n)
			}
		}
		return
	}
	both := 0
	for s := range n {
		if res[0].got[s] && res[1].got[s] {
			both++
		}
		if pol == Block && !res[0].got[s] && !res[1].got[s] {
			t.Fatalf("frame %d reached no reader", s)
		}
	}
	total := res[0].recv + res[1].recv + int(res[0].missed+res[1].missed)
	if both != 0 || total != n || pol == Block && res[0].missed+res[1].missed != 0 {
		t.Errorf("%d frames went to both readers; received+missed %d of %d", both, total, n)
	}
}
