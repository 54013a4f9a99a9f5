package ring_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// An anonymous ring has no name to leak; a second handle opened from
// its descriptor, as another process would, sees the same stream.
func TestCreateAnon(t *testing.T) {
	r, err := ring.CreateAnon(ring.Config{DType: ndshm.Uint64, Frame: []int{3}, Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := r.Block().File()
	if err != nil {
		t.Fatal(err)
	}
	b, err := ndshm.FromFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ring.OpenBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if r.Name() != "" || peer.Slots() != 2 || peer.FrameBytes() != 24 {
		t.Fatalf("peer handle: name %q, %d slots of %d bytes", r.Name(), peer.Slots(), peer.FrameBytes())
	}
	rd, err := peer.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	publish(t, w, 2, time.Second) // as many as there are slots
	w.Close()
	expectRun(t, rd, 0, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := rd.Next(ctx); err != io.EOF {
		t.Errorf("after the writer closed: %v, want io.EOF", err)
	}
}
