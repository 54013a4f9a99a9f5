package ring_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/ring"
)

// A reader killed while asleep in Next is taken out of the sleeper count
// by whoever takes its place over, the writer reclaiming it or a new
// reader joining in it: otherwise every publish would pay a futex wake
// for a reader that will never wake.
func TestDeadSleeperUncounted(t *testing.T) {
	for _, by := range []string{"writer", "joiner"} {
		t.Run(by, func(t *testing.T) {
			r := newRing(t, 1, 2, ring.Broadcast, ring.Block, 2)
			sleepers := func() uint32 { return binary.LittleEndian.Uint32(block.Of(r.Block()).Control()[128:]) }
			c := start(t, "hold", r.Name())
			c.expect("ready")
			for t0 := time.Now(); sleepers() != 1; time.Sleep(time.Millisecond) {
				if time.Since(t0) > 5*time.Second {
					t.Fatalf("the reader never slept: %d sleepers", sleepers())
				}
			}
			c.kill()
			if n := sleepers(); n != 1 {
				t.Fatalf("after the kill: %d sleepers, want the dead one still counted", n)
			}
			switch by {
			case "writer": // blocks on the dead reader's cursor, then reclaims it
				w, err := r.Writer()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				publish(t, w, 3, 5*time.Second)
			case "joiner": // place 0 is the dead reader's
				rd, err := r.Reader()
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
			}
			if n := sleepers(); n != 0 {
				t.Errorf("after the %s took the place: %d sleepers, want 0", by, n)
			}
		})
	}
}
