package ring_test

import (
	"errors"
	"io/fs"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// handRing makes a block of spec whose footer holds ring control words
// for S slots and R places, encoded by hand from docs/FORMAT.md, so the
// array and the words can disagree.
func handRing(t *testing.T, s ndshm.Spec, frameBytes int) *ndshm.Block {
	t.Helper()
	b, err := ndshm.Create(shmtest.Name(), s, block.Option(block.Layout{Kind: block.Ring, Control: cPlaces + 64*(R+2*S)}).(ndshm.Option),
		ndshm.Init(func(b *ndshm.Block) error {
			ctl := block.Of(b).Control()
			copy(ctl, "NDSHMRNG")
			le.PutUint32(ctl[cVersion:], 2)
			le.PutUint32(ctl[cSlots:], S)
			le.PutUint32(ctl[cReaders:], R)
			le.PutUint64(ctl[cFrame:], uint64(frameBytes))
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Open checks that a block is a ring whose words describe its array.
func TestOpenMismatch(t *testing.T) {
	for _, c := range []struct {
		name  string
		spec  ndshm.Spec
		frame int
		want  error // nil: it opens
	}{
		{"as documented", ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S, 8}}, 64, nil},
		{"fortran order", ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S, 8}, Fortran: true}, 64, ndshm.ErrFormat},
		{"first dim > slots", ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S + 1, 8}}, 64, ndshm.ErrFormat},
		{"first dim < slots", ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S - 1, 8}}, 64, ndshm.ErrFormat},
		{"no slot axis", ndshm.Spec{DType: ndshm.Uint64}, 8, ndshm.ErrFormat},
		{"frame size", ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S, 8}}, 32, ndshm.ErrFormat},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := handRing(t, c.spec, c.frame)
			r, err := ring.Open(b.Name())
			if err == nil {
				r.Close()
			}
			if c.want == nil && err != nil || !errors.Is(err, c.want) {
				t.Fatalf("Open: %v, want %v", err, c.want)
			}
		})
	}
}

// A plain array block is not a ring; nor is a missing name.
func TestOpenNotARing(t *testing.T) {
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint64, Shape: []int{S, 8}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if r, err := ring.Open(name); !errors.Is(err, ndshm.ErrFormat) {
		t.Errorf("Open of an array block: %v, want ErrFormat", err)
		if r != nil {
			r.Close()
		}
	}
	if r, err := ring.Open(shmtest.Name()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of no block: %v, want fs.ErrNotExist", err)
		if r != nil {
			r.Close()
		}
	}
}

// A ring's slots are a typed view of its block: the wrong element type
// is ndshm.ErrDType, the right one indexes a frame by its slot.
func TestFrameView(t *testing.T) {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint8, Frame: []int{2, 3}, Slots: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := ndshm.View[float32](r.Block()); !errors.Is(err, ndshm.ErrDType) {
		t.Errorf("View[float32] of a uint8 ring: %v, want ErrDType", err)
	}
	v, err := ndshm.View[uint8](r.Block())
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	publish(t, w, 2, time.Second) // so the next frame is in slot 2
	f, err := w.Loan(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	copy(f.Bytes(), "abcdef")
	if img := v.Index(f.Slot); f.Slot != 2 || img.At(1, 2) != 'f' || img.At(0, 0) != 'a' || r.FrameBytes() != 6 {
		t.Errorf("slot %d: view %v, frame bytes %d", f.Slot, img.Shape(), r.FrameBytes())
	}
}
