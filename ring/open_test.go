package ring_test

import (
	"errors"
	"io/fs"
	"os"
	"strings"
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

// A ring has Config.Readers places: one reader more fails with an error
// that says so, and a place comes free when its reader closes or its
// process dies.
func TestReaderPlaces(t *testing.T) {
	r := newRing(t, 1, 4, ring.Broadcast, ring.Backpressure, 2)
	c := start(t, "hold", r.Name())
	c.expect("ready")
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	expectFull(t, r)
	rd.Close()
	if rd, err = r.Reader(); err != nil {
		t.Fatalf("after a reader closed: %v", err)
	}
	defer rd.Close()
	expectFull(t, r)
	c.kill()
	rd2, err := r.Reader()
	if err != nil {
		t.Fatalf("after the other reader's process died: %v", err)
	}
	defer rd2.Close()
	if st := r.Stat(); len(st.Readers) != 2 || !st.Readers[0].Alive || !st.Readers[1].Alive {
		t.Errorf("places: %+v", st.Readers)
	}
	expectFull(t, r)
}

func expectFull(t *testing.T, r *ring.Ring) {
	t.Helper()
	rd, err := r.Reader()
	if err == nil {
		rd.Close()
		t.Fatal("a reader beyond the ring's places")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "all 2 reader places taken") {
		t.Fatalf("a reader too many: %v", err)
	}
}

// Create refuses a config it cannot lay out, and leaves no block.
func TestCreateConfig(t *testing.T) {
	for _, c := range []ring.Config{
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: 0},
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: ring.MaxSlots + 1},
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2, Readers: ring.MaxReaders + 1},
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2, Readers: -1},
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2, Mode: 2},
		{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2, Policy: 2},
		{DType: ndshm.Uint8, Frame: []int{-1}, Slots: 2},
	} {
		if r, err := ring.Create(shmtest.Name(), c); err == nil {
			r.Close()
			t.Errorf("Create(%+v) succeeded", c)
		}
	}
}

// Closed writers and readers refuse work with os.ErrClosed, close again
// without error, and a Publish with nothing on loan is an error.
func TestClosedHandles(t *testing.T) {
	r := newRing(t, 1, 2, ring.Broadcast, ring.Backpressure, 1)
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Publish(0); err == nil {
		t.Error("Publish with no frame on loan succeeded")
	}
	publish(t, w, 1, time.Second)
	if _, err := rd.Next(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := rd.Close(); err != nil {
			t.Errorf("reader Close: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("writer Close: %v", err)
		}
	}
	if _, err := rd.Next(t.Context()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close: %v", err)
	}
	if err := rd.Release(); err != nil {
		t.Errorf("Release after Close: %v", err)
	}
	if _, err := w.Loan(t.Context()); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Loan after Close: %v", err)
	}
	if st := r.Stat(); len(st.Readers) != 0 || st.Writer != "closed" || st.Head != 1 {
		t.Errorf("Stat after both closed: %+v", st)
	}
}

// A ring opened read-only refuses readers and writers, which write to
// its control words, instead of faulting on the read-only mapping.
func TestReadOnlyRefusesPeers(t *testing.T) {
	name := shmtest.Name()
	r, err := ring.Create(name, ring.Config{DType: ndshm.Uint8, Frame: []int{64}, Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ro, err := ring.Open(name, ndshm.ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for _, c := range []struct {
		what string
		f    func() error
	}{
		{"Reader", func() error {
			rd, err := ro.Reader()
			if err == nil {
				rd.Close()
			}
			return err
		}},
		{"Writer", func() error {
			w, err := ro.Writer()
			if err == nil {
				w.Close()
			}
			return err
		}},
	} {
		if err := c.f(); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s on a read-only ring: %v, want fs.ErrPermission", c.what, err)
		}
	}
}
