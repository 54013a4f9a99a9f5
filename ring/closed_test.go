package ring_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ndshm/ndshm/ring"
)

// Closed writers and readers refuse work with os.ErrClosed, close again
// without error, and a Publish with nothing on loan is an error.
func TestClosedHandles(t *testing.T) {
	r := newRing(t, 1, 2, ring.Broadcast, ring.Block, 1)
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
