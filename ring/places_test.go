package ring_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// A ring has Config.Readers places: one reader more fails with an error
// that says so, and a place comes free when its reader closes or its
// process dies.
func TestReaderPlaces(t *testing.T) {
	r := newRing(t, 1, 4, ring.Broadcast, ring.Block, 2)
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
