package ring

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ndshm/ndshm"
)

// The race detector cannot see mmapped memory, so these tests run the
// ring's protocol over heap memory: control words and slots are Go
// slices, the frames are written and read with plain (non-atomic)
// accesses, and the detector reports any frame access that publish and
// release do not order. Only the OFD locks stay on a real (anonymous)
// block, since they need a file.

// heapRing returns a ring of u64 frames of elems elements whose control
// words and slots live on the Go heap.
func heapRing(t *testing.T, mode Mode, pol Policy, slots, elems, readers int) *Ring {
	t.Helper()
	r, err := CreateAnon(Config{DType: ndshm.Uint64, Frame: []int{elems}, Slots: slots, Mode: mode,
		Policy: pol, Readers: readers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	r.c.mem = aligned(controlSize(slots, r.c.readers))
	r.data = aligned(len(r.data))
	return r
}

// aligned returns n zeroed heap bytes starting on a 64-byte boundary,
// as a block's control area and data do.
func aligned(n int) []byte {
	b := make([]byte, n+line)
	off := (line - int(uintptr(unsafe.Pointer(&b[0]))%line)) % line
	return b[off : off+n : off+n]
}

// fillSeq and holdsSeq write and check a frame plainly: every u64
// element is the frame's sequence number.
func fillSeq(b []byte, seq uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], seq)
	}
}

func holdsSeq(b []byte, seq uint64) bool {
	for i := 0; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:]) != seq {
			return false
		}
	}
	return true
}

// TestHeapProtocol: a writer and two readers, one of them slow, in every
// mode and policy, with as few slots as readers (the writer often waits,
// even under Overwrite) and with a spare one; run it with -race.
func TestHeapProtocol(t *testing.T) {
	const n = 20000
	for _, mode := range []Mode{Broadcast, Queue} {
		for _, pol := range []Policy{Block, Overwrite} {
			for _, slots := range []int{2, 3} {
				t.Run(fmt.Sprintf("%v/%v/%d", mode, pol, slots), func(t *testing.T) {
					heapRun(t, heapRing(t, mode, pol, slots, 16, 2), n)
				})
			}
		}
	}
}

func heapRun(t *testing.T, r *Ring, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := make([]heapRead, 2)
	var wg sync.WaitGroup
	for i, hold := range []time.Duration{0, 5 * time.Microsecond} {
		rd, err := r.Reader()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { res[i] = readHeap(t, ctx, rd, n, hold) })
	}
	writeHeap(t, ctx, r, n)
	wg.Wait()
	checkHeap(t, r.Mode(), r.Policy(), res, n)
}
