package ring_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// Under Overwrite, two reader processes that hold each frame far longer
// than the writer takes to publish one never see a torn frame: each one
// they receive is intact after the hold and releases cleanly, and they
// come in order. Every frame is accounted for once: received or missed
// by each reader (Broadcast), or by exactly one of them (Queue).
func TestOverwriteSlowReaders(t *testing.T) {
	const n = 200_000
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		for _, slots := range []int{3, 16} { // 3: one free slot beside two holds
			t.Run(fmt.Sprintf("%v/%d", mode, slots), func(t *testing.T) {
				r := newRing(t, 64, slots, mode, ring.Overwrite, 2)
				got := readers(t, r, 2, n, 20*time.Microsecond)
				stream(t, r, n)
				res := []result{got[0](), got[1]()}
				var all uint64
				for i, g := range res {
					t.Logf("reader %d: %+v", i, g.counts)
					if g.bad+g.torn+g.disorder != 0 || g.count() != int(g.recv) || g.recv == 0 {
						t.Errorf("reader %d: %+v, %d distinct", i, g.counts, g.count())
					}
					if mode == ring.Broadcast && (g.recv+g.missed != n || g.missed == 0) {
						t.Errorf("reader %d received %d and missed %d of %d", i, g.recv, g.missed, n)
					}
					all += g.recv + g.missed
				}
				if mode == ring.Queue {
					if all != n {
						t.Errorf("readers received or missed %d of %d", all, n)
					}
					checkDisjoint(t, res)
				}
			})
		}
	}
}
