package ring_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// In steady state, with frames available so that nobody waits, a
// frame's Loan+View+Publish and Next+View+Release allocate nothing, in
// every mode and policy.
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
			f, err := w.Loan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			a, err := ring.View[uint64](f)
			if err != nil {
				t.Fatal(err)
			}
			for i := range a.Len() {
				a.Set(f.Seq, i)
			}
			w.Publish(f.Seq)
			f, err = rd.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if a, err = ring.View[uint64](f); err != nil || a.At(3) != f.Seq || !intact(f.Bytes(), f.Seq) || rd.Release() != nil {
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

// View gives a frame of a (3, 2, 3) uint8 ring as a (2, 3) array aliasing
// its slot, on both sides; the wrong element type is ndshm.ErrDType, a
// zero Frame os.ErrInvalid, a closed ring os.ErrClosed.
func TestView(t *testing.T) {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint8, Frame: []int{2, 3}, Slots: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd, w := pair(t, r)
	publish(t, w, 2, time.Second) // so the next frame is in slot 2
	expectRun(t, rd, 0, 2)
	f, err := w.Loan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := ring.View[uint8](f)
	if err != nil {
		t.Fatal(err)
	}
	copy(f.Bytes(), "abcdef")
	out.Set('F', 1, 2)
	w.Publish(0)
	g, err := rd.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	in, err := ring.View[uint8](g)
	if err != nil {
		t.Fatal(err)
	}
	if sh := in.Shape(); g.Slot != 2 || len(sh) != 2 || sh[0] != 2 || sh[1] != 3 ||
		in.At(0, 0) != 'a' || in.At(1, 1) != 'e' || g.Bytes()[5] != 'F' || r.FrameBytes() != 6 {
		t.Errorf("slot %d: view %v holds %q; frame bytes %d", g.Slot, in.Shape(), g.Bytes(), r.FrameBytes())
	}

	for _, c := range []struct {
		name string
		view func() error
		want error
	}{
		{"wrong type", func() error { _, err := ring.View[float32](g); return err }, ndshm.ErrDType},
		{"zero Frame", func() error { _, err := ring.View[uint8](ring.Frame{}); return err }, os.ErrInvalid},
		{"closed ring", func() error { rd.Close(); w.Close(); r.Close(); _, err := ring.View[uint8](g); return err }, os.ErrClosed},
	} {
		if err := c.view(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// View of a bool ring checks the frame's own bytes, not every slot's: a
// byte other than 0 or 1 in another slot does not refuse it, one in the
// frame does (ndshm.ErrDType), and viewing allocates nothing.
func TestViewBool(t *testing.T) {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Bool, Frame: []int{4}, Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() }) // after pair's Close of the writer
	_, w := pair(t, r)
	f, err := w.Loan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	other := r.Block().Bytes()[(1-f.Slot)*4:]
	other[0] = 7
	a, err := ring.View[bool](f)
	if err != nil || a.Len() != 4 {
		t.Fatalf("view of a clean frame beside a bad slot: %v, %v", a.Shape(), err)
	}
	a.Set(true, 2)
	if f.Bytes()[2] != 1 {
		t.Errorf("a bool view does not alias the frame: % x", f.Bytes())
	}
	if n := testing.AllocsPerRun(100, func() { ring.View[bool](f) }); n != 0 {
		t.Errorf("%v allocations per bool view", n)
	}
	f.Bytes()[3] = 2
	if _, err := ring.View[bool](f); !errors.Is(err, ndshm.ErrDType) {
		t.Errorf("view of a frame holding the byte 2: %v, want ndshm.ErrDType", err)
	}
	if _, err := ring.View[uint8](f); err != nil {
		t.Errorf("uint8 view of the same frame: %v", err)
	}
}
