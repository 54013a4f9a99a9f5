package ring_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// pyItem is element i of ring send's test pattern, as the Go side of
// these tests writes and checks it: i in the dtype (little-endian
// integers and floats only).
func pyItem(dt ndshm.DType, i uint64) []byte {
	b := make([]byte, 8)
	switch {
	case dt.Kind() == 'f' && dt.Size() == 4:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(i)))
	case dt.Kind() == 'f':
		binary.LittleEndian.PutUint64(b, math.Float64bits(float64(i)))
	default:
		binary.LittleEndian.PutUint64(b, i)
	}
	return b[:dt.Size()]
}

// pyFill writes frame i's pattern into b, doubling the run written so
// that the race detector does not make it slow.
func pyFill(dt ndshm.DType, b []byte, i uint64) {
	for n := copy(b, pyItem(dt, i)); n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// pyIntact reports whether b holds frame i's pattern.
func pyIntact(dt ndshm.DType, b []byte, i uint64) bool {
	item := pyItem(dt, i)
	if !bytes.HasPrefix(b, item) {
		return false
	}
	for n := len(item); n < len(b); n *= 2 {
		if !bytes.Equal(b[n:min(2*n, len(b))], b[:min(n, len(b)-n)]) {
			return false
		}
	}
	return true
}

// pyRing creates a ring for a Python test, closed (and unlinked) at the
// end of the test.
func pyRing(t *testing.T, c ring.Config) *ring.Ring {
	t.Helper()
	r, err := ring.Create(shmtest.Name(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// pyPublish writes n frames of the pattern with tag i, frame bad (if any)
// with one byte wrong, and closes the writer.
func pyPublish(t *testing.T, r *ring.Ring, n, bad int) {
	t.Helper()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dt := r.Block().DType()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		f, err := w.Loan(ctx)
		cancel()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		pyFill(dt, f.Bytes(), uint64(i))
		if i == bad {
			f.Bytes()[len(f.Bytes())-1] ^= 1
		}
		if err := w.Publish(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// pySeq reports whether seqs are 0, 1, …, n-1.
func pySeq(seqs []uint64, n int) bool {
	return len(seqs) == n && (n == 0 || seqs[0] == 0 && seqs[n-1] == uint64(n-1) && slices.IsSorted(seqs) &&
		len(slices.Compact(slices.Clone(seqs))) == n)
}
