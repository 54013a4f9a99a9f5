package ring_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// stressFrames is how many 8-byte frames the stress tests push through
// two reader processes: a million (about 1.4 s here, 2.5 s under the
// race detector), or a tenth of that with -short.
func stressFrames() int {
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// Under the Block policy nothing is lost across processes: in Broadcast
// mode each reader process sees every frame once, in order; in Queue
// mode every frame goes to exactly one of them, each in order.
func TestStressBlock(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			n := stressFrames()
			r := newRing(t, 1, 64, mode, ring.Block, 2)
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
