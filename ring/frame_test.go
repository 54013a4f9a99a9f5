package ring_test

import (
	"context"
	"testing"

	"github.com/ndshm/ndshm/ring"
)

// In steady state, with frames available so that nobody waits, a
// frame's Loan+Publish and Next+Release allocate nothing, in every mode
// and policy.
func TestAllocs(t *testing.T) {
	each(t, func(t *testing.T, mode ring.Mode, pol ring.Policy) {
		r := newRing(t, 4, 4, mode, pol, 2)
		rd, w := pair(t, r)
		ctx := context.Background()
		var bad int
		write := func() {
			f, err := w.Loan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			fill(f.Bytes(), f.Seq)
			w.Publish(f.Seq)
		}
		frame := func() {
			write()
			f, err := rd.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !intact(f.Bytes(), f.Seq) || rd.Release() != nil {
				bad++
			}
		}
		for range 10 { // past the first use of every slot
			frame()
		}
		if n := testing.AllocsPerRun(1000, frame); n != 0 || bad != 0 {
			t.Errorf("%v allocations per frame; %d frames bad", n, bad)
		}
		rd.Close() // nobody reads: Broadcast drops, Overwrite overwrites
		if mode == ring.Broadcast || pol == ring.Overwrite {
			if n := testing.AllocsPerRun(1000, write); n != 0 {
				t.Errorf("%v allocations per frame with no reader", n)
			}
		}
	})
}
