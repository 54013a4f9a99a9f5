package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/block"
	"github.com/ndshm/ndshm/ring"
)

// Offsets in a ring's control area, from docs/FORMAT.md ("Rings"): the
// tests corrupt a real ring where the document says the words are.
const (
	cVersion, cMode, cPolicy, cSlots, cReaders, cFrame = 8, 12, 16, 20, 24, 32
	cHead, cPlaces                                     = 64, 448
)

// The rings below have S slots and R reader places.
const S, R = 4, 2

func slotOff(k int) int { return cPlaces + 64*(R+k) }
func logOff(j int) int  { return cPlaces + 64*(R+S+j) }

// Corrupt config words: Open fails with ndshm.ErrFormat.
func TestOpenCorruptConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(ctl []byte)
	}{
		{"magic", func(ctl []byte) { ctl[3] ^= 0xff }},
		{"version 1, before streams", func(ctl []byte) { le.PutUint32(ctl[cVersion:], 1) }},
		{"version 3", func(ctl []byte) { le.PutUint32(ctl[cVersion:], 3) }},
		{"mode", func(ctl []byte) { le.PutUint32(ctl[cMode:], 2) }},
		{"policy", func(ctl []byte) { le.PutUint32(ctl[cPolicy:], 1<<31) }},
		{"slots != array dim", func(ctl []byte) { le.PutUint32(ctl[cSlots:], S+1) }},
		{"slots 0", func(ctl []byte) { le.PutUint32(ctl[cSlots:], 0) }},
		{"slots huge", func(ctl []byte) { le.PutUint32(ctl[cSlots:], 1<<31) }},
		{"readers 0", func(ctl []byte) { le.PutUint32(ctl[cReaders:], 0) }},
		{"readers beyond max", func(ctl []byte) { le.PutUint32(ctl[cReaders:], ring.MaxReaders+1) }},
		{"readers beyond control area", func(ctl []byte) { le.PutUint32(ctl[cReaders:], ring.MaxReaders) }},
		{"frame bytes", func(ctl []byte) { le.PutUint64(ctl[cFrame:], 8*8+8) }},
		{"frame bytes huge", func(ctl []byte) { le.PutUint64(ctl[cFrame:], 1<<63) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(t, 8, S, ring.Broadcast, ring.Backpressure, R)
			c.edit(block.Of(r.Block()).Control())
			r2, err := ring.Open(r.Name())
			if err == nil {
				r2.Close()
			}
			if !errors.Is(err, ndshm.ErrFormat) {
				t.Fatalf("Open: %v, want ErrFormat", err)
			}
		})
	}
}

// Corrupt cursors, log entries and slots of a live ring: the reader's
// Next fails with ndshm.ErrFormat (at the latest on the frame the
// corruption names), and never panics or hangs.
func TestNextCorruptCursors(t *testing.T) {
	put := func(off int, v uint64) func(ctl []byte) {
		return func(ctl []byte) { le.PutUint64(ctl[off:], v) }
	}
	for _, c := range []struct {
		name string
		pols []ring.Policy
		edit func(ctl []byte)
	}{
		{"head beyond slots", []ring.Policy{ring.Backpressure}, put(cHead, 2+S+3)},
		{"head far beyond", []ring.Policy{ring.Overwrite}, put(cHead, 1<<40)},
		{"log slot out of range", []ring.Policy{ring.Backpressure, ring.Overwrite}, put(logOff(1), 2<<16|0xffff)},
		{"log slot = S", []ring.Policy{ring.Backpressure, ring.Overwrite}, put(logOff(1), 2<<16|S)},
		{"log names a later frame", []ring.Policy{ring.Backpressure}, put(logOff(0), 7<<16)},
		{"log never written", []ring.Policy{ring.Backpressure}, put(logOff(1), 0)},
		{"slot holds another frame", []ring.Policy{ring.Backpressure}, put(slotOff(1), 99)},
		{"slot busy", []ring.Policy{ring.Backpressure}, put(slotOff(0), 1<<63)},
	} {
		for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
			for _, pol := range c.pols {
				t.Run(c.name+"/"+mode.String()+"/"+pol.String(), func(t *testing.T) {
					r := newRing(t, 8, S, mode, pol, R)
					rd, w := pair(t, r)
					publish(t, w, 2, time.Second)
					c.edit(block.Of(r.Block()).Control())
					expectFormatErr(t, rd, 3)
				})
			}
		}
	}
}

// expectFormatErr calls Next up to n times and wants an ErrFormat error.
func expectFormatErr(t *testing.T, rd *ring.Reader, n int) {
	t.Helper()
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := rd.Next(ctx)
		cancel()
		if err != nil {
			if !errors.Is(err, ndshm.ErrFormat) {
				t.Fatalf("Next: %v, want ErrFormat", err)
			}
			return
		}
	}
	t.Fatalf("%d frames and no error", n)
}

// A head moved back behind a reader's cursor is corruption, reported at
// once, not a wait for frames that will never come.
func TestNextHeadMovedBack(t *testing.T) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			r := newRing(t, 8, S, mode, ring.Backpressure, R)
			rd, w := pair(t, r)
			publish(t, w, 2, time.Second)
			expectRun(t, rd, 0, 2)
			rd.Release()
			le.PutUint64(block.Of(r.Block()).Control()[cHead:], 1)
			expectFormatErr(t, rd, 1)
		})
	}
}
