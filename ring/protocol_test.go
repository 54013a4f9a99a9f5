package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
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
		for _, pol := range []Policy{Backpressure, Overwrite} {
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

// heapRead is one reader goroutine's account.
type heapRead struct {
	got    []bool // got[s]: frame s received intact
	recv   int
	missed uint64
}

// readHeap reads rd to the end of the stream, checking every frame after
// holding it for hold, and that frames come in order.
func readHeap(t *testing.T, ctx context.Context, rd *Reader, n int, hold time.Duration) heapRead {
	defer rd.Close()
	a := heapRead{got: make([]bool, n)}
	prev := -1
	for {
		f, err := rd.Next(ctx)
		if err == io.EOF {
			a.missed = rd.Missed()
			return a
		}
		if err != nil {
			t.Error(err)
			return a
		}
		for end := time.Now().Add(hold); time.Now().Before(end); {
		}
		if s := int(f.Seq); s <= prev || s >= n || !holdsSeq(f.Bytes(), f.Seq) || f.Tag != f.Seq {
			t.Errorf("frame %d (after %d) tag %d is not intact", f.Seq, prev, f.Tag)
		} else {
			a.got[s] = true
		}
		if err := rd.Release(); err != nil {
			t.Error(err)
		}
		prev, a.recv = int(f.Seq), a.recv+1
	}
}

// writeHeap publishes n frames, each written plainly with its sequence
// number and tagged with it, then ends the stream.
func writeHeap(t *testing.T, ctx context.Context, r *Ring, n int) {
	t.Helper()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range n {
		f, err := w.Loan(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		fillSeq(f.Bytes(), f.Seq)
		if err := w.Publish(f.Seq); err != nil {
			t.Error(err)
			return
		}
	}
}

// checkHeap checks the readers' accounts of n frames: every frame is
// received or counted missed, once per reader (Broadcast) or once in all
// (Queue), and none is missed under Backpressure.
func checkHeap(t *testing.T, mode Mode, pol Policy, res []heapRead, n int) {
	t.Helper()
	t.Logf("received %d and %d, missed %d and %d", res[0].recv, res[1].recv, res[0].missed, res[1].missed)
	if mode == Broadcast {
		for i, a := range res {
			if a.recv+int(a.missed) != n || pol == Backpressure && a.missed != 0 {
				t.Errorf("reader %d received %d and missed %d of %d frames", i, a.recv, a.missed, n)
			}
		}
		return
	}
	both := 0
	for s := range n {
		if res[0].got[s] && res[1].got[s] {
			both++
		}
		if pol == Backpressure && !res[0].got[s] && !res[1].got[s] {
			t.Fatalf("frame %d reached no reader", s)
		}
	}
	total := res[0].recv + res[1].recv + int(res[0].missed+res[1].missed)
	if both != 0 || total != n || pol == Backpressure && res[0].missed+res[1].missed != 0 {
		t.Errorf("%d frames went to both readers; received+missed %d of %d", both, total, n)
	}
}

// TestHeapStreams: three writers in a row on one ring, over heap memory
// (run it with -race). A reader subscribed throughout gets every stream,
// each ended by io.EOF; in Broadcast mode a second one, subscribed after
// the first writer closed, waits for the second stream instead of
// seeing the first one's end. Frames carry their stream, their index in
// it and the ring-wide sequence number.
func TestHeapStreams(t *testing.T) {
	const streams, m = 3, 2000
	for _, mode := range []Mode{Broadcast, Queue} {
		for _, pol := range []Policy{Backpressure, Overwrite} {
			t.Run(fmt.Sprintf("%v/%v", mode, pol), func(t *testing.T) {
				r := heapRing(t, mode, pol, 3, 16, 2)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				ends := make(chan struct{}, 2)
				var wg sync.WaitGroup
				join := func(first uint32) {
					rd, err := r.Reader()
					if err != nil {
						t.Fatal(err)
					}
					wg.Go(func() { readStreams(t, ctx, rd, first, streams, m, ends) })
				}
				join(1)
				readers := 1
				for s := uint32(1); s <= streams; s++ {
					if s == 2 && mode == Broadcast {
						join(2)
						readers++
					}
					writeStream(t, ctx, r, m)
					for range readers { // every reader saw this stream end
						select {
						case <-ends:
						case <-ctx.Done():
							t.Fatalf("stream %d: %v", s, ctx.Err())
						}
					}
				}
				wg.Wait()
			})
		}
	}
}

func writeStream(t *testing.T, ctx context.Context, r *Ring, m int) {
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range m {
		f, err := w.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fillSeq(f.Bytes(), f.Seq)
		w.Publish(f.Index)
	}
}

// readStreams reads streams first to last, checking that each one's
// frames come in order and intact and that it ends with io.EOF.
func readStreams(t *testing.T, ctx context.Context, rd *Reader, first, last uint32, m int, ends chan<- struct{}) {
	defer rd.Close()
	exact := rd.r.cfg.policy == Backpressure
	for s := first; s <= last; s++ {
		prev := -1
		for {
			f, err := rd.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("stream %d after frame %d: %v", s, prev, err)
				return
			}
			i := int(f.Index)
			if f.Stream != s || i <= prev || exact && i != prev+1 || i >= m || f.Tag != f.Index || !holdsSeq(f.Bytes(), f.Seq) {
				t.Errorf("stream %d after frame %d: %+v", s, prev, f)
				return
			}
			prev = i
			if err := rd.Release(); err != nil {
				t.Error(err)
			}
		}
		if exact && prev != m-1 {
			t.Errorf("stream %d ended after frame %d of %d", s, prev, m)
			return
		}
		ends <- struct{}{}
	}
}

// A reader counts for WaitReaders only once its join has set its next:
// one counted while still joining could miss the frames a writer
// publishes right after WaitReaders returned, without counting them as
// missed. Place 1 is made to look mid-join (active, not positioned).
func TestWaitReadersCountsPositioned(t *testing.T) {
	name := shmtest.Name()
	r, err := Create(name, Config{DType: ndshm.Uint8, Frame: []int{8}, Slots: 4, Readers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if err := r.WaitReaders(context.Background(), 1); err != nil {
		t.Fatalf("a joined reader: %v", err)
	}
	joining := r.c.reader(1, rState)
	joining.Store(uint64(os.Getpid())<<32 | stateActive)
	defer joining.Store(0)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitReaders(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Go WaitReaders(2) with one reader mid-join = %v, want it to time out", err)
	}
	script := "import sys, ndshm\n" +
		"r = ndshm.Ring(sys.argv[1])\n" +
		"try:\n    r.wait_readers(2, timeout=0.05)\n    print('returned')\n" +
		"except TimeoutError as e:\n    print('timeout', e)\n" +
		"r.wait_readers(1, timeout=5)\nr.close()\n"
	out, err := shmtest.PythonCommand(t, "-c", script, name).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "timeout") {
		t.Errorf("Python wait_readers(2) with one reader mid-join: %s (%v), want a timeout", out, err)
	}
}

// A frame overwritten while its reader held it (here by a peer that
// broke the protocol, faked by storing another seq in its slot) is
// reported as Python's recv reports it: the Next after it returns
// ErrTorn, having released it, and the Next after that goes on. An
// explicit Release reports it instead, and only once. Under
// Backpressure no slot is overwritten, so nothing is checked.
func TestNextReportsTorn(t *testing.T) {
	for _, c := range []struct {
		name     string
		pol      Policy
		tear     bool
		release  bool // Release before Next
		wantTorn bool // from Release, or else from Next
	}{
		{"intact", Overwrite, false, false, false},
		{"torn/Next", Overwrite, true, false, true},
		{"torn/Release", Overwrite, true, true, true},
		{"backpressure", Backpressure, true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := heapRing(t, Broadcast, c.pol, 4, 2, 1)
			rd, err := r.Reader()
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			w, err := r.Writer()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			for range 3 {
				if _, err := w.Loan(t.Context()); err != nil {
					t.Fatal(err)
				}
				w.Publish(0)
			}
			f, err := rd.Next(t.Context())
			if err != nil || f.Seq != 0 {
				t.Fatalf("first Next: frame %d, %v", f.Seq, err)
			}
			if c.tear {
				r.c.slot(f.Slot, sSeq).Store(busy | 7)
			}
			var rerr error
			if c.release {
				rerr = rd.Release()
			}
			f, err = rd.Next(t.Context())
			torn := errors.Is(rerr, ErrTorn) || errors.Is(err, ErrTorn)
			if torn != c.wantTorn || err != nil && !errors.Is(err, ErrTorn) || rerr != nil && !errors.Is(rerr, ErrTorn) {
				t.Fatalf("Release: %v; Next: frame %d, %v; want torn %v", rerr, f.Seq, err, c.wantTorn)
			}
			if err != nil {
				f, err = rd.Next(t.Context()) // the reader goes on
			}
			if err != nil || f.Seq != 1 {
				t.Fatalf("after the torn frame: frame %d, %v, want frame 1", f.Seq, err)
			}
		})
	}
}
