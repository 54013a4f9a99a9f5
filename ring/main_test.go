package ring_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// roles are what a re-executed test binary can be asked to do (see
// roles_test.go, role_write_test.go and bench_ping_test.go).
var roles = map[string]func(args []string) int{
	"read":       readRole,
	"hold":       holdRole,
	"write":      writeRole,
	"bench-echo": benchEchoRole,
}

func TestMain(m *testing.M) { shmtest.Main(m, roles) }

// Frames in these tests are u64 arrays whose every element is the
// frame's sequence number, and whose tag is the sequence number too: a
// frame that mixes two frames (torn) or sits in the wrong place shows.
var le = binary.LittleEndian

func fill(b []byte, seq uint64) {
	for i := 0; i+8 <= len(b); i += 8 {
		le.PutUint64(b[i:], seq)
	}
}

// intact reports whether every element of b is seq.
func intact(b []byte, seq uint64) bool {
	for i := 0; i+8 <= len(b); i += 8 {
		if le.Uint64(b[i:]) != seq {
			return false
		}
	}
	return true
}

// newRing creates a ring of u64 frames of elems elements, closed at the
// end of the test.
func newRing(t *testing.T, elems, slots int, mode ring.Mode, pol ring.Policy, readers int) *ring.Ring {
	t.Helper()
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint64, Frame: []int{elems},
		Slots: slots, Mode: mode, Policy: pol, Readers: readers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// publish writes count frames, each filled with its sequence number,
// failing the test if a Loan takes longer than d.
func publish(t *testing.T, w *ring.Writer, count int, d time.Duration) {
	t.Helper()
	for range count {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		f, err := w.Loan(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		fill(f.Bytes(), f.Seq)
		if err := w.Publish(f.Seq); err != nil {
			t.Fatal(err)
		}
	}
}

// expectRun reads n frames, which must be from, from+1, … and intact,
// and returns the sequence number after them.
func expectRun(t *testing.T, rd *ring.Reader, from uint64, n int) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range n {
		f, err := rd.Next(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", from, err)
		}
		if f.Seq != from || f.Tag != from || !intact(f.Bytes(), from) {
			t.Fatalf("frame %d tag %d (intact %v), want %d", f.Seq, f.Tag, intact(f.Bytes(), f.Seq), from)
		}
		from++
	}
	return from
}

// expectEOF expects the end of rd's stream.
func expectEOF(t *testing.T, rd *ring.Reader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if f, err := rd.Next(ctx); err != io.EOF {
		t.Fatalf("frame %d, %v; want io.EOF", f.Seq, err)
	}
}

// each runs f as a subtest for every mode and policy.
func each(t *testing.T, f func(t *testing.T, mode ring.Mode, pol ring.Policy)) {
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		for _, pol := range []ring.Policy{ring.Backpressure, ring.Overwrite} {
			t.Run(mode.String()+"/"+pol.String(), func(t *testing.T) { f(t, mode, pol) })
		}
	}
}

// pair subscribes a reader to r and takes its writer, both closed at
// the end of the test (the writer first, as a stream ends).
func pair(t *testing.T, r *ring.Ring) (*ring.Reader, *ring.Writer) {
	t.Helper()
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return rd, w
}

type counts struct{ recv, missed, bad, torn, disorder uint64 }

// A result is what a reader process reports (see readRole).
type result struct {
	counts
	seen []byte // bit s: frame s received intact
}

func parse(t *testing.T, out []byte, n int) result {
	t.Helper()
	var g result
	i := bytes.IndexByte(out, '\n')
	if i < 0 {
		t.Fatalf("reader said %q", out)
	}
	if _, err := fmt.Sscan(string(out[:i]), &g.recv, &g.missed, &g.bad, &g.torn, &g.disorder); err != nil {
		t.Fatalf("reader said %q: %v", out[:i], err)
	}
	if g.seen = out[i+1:]; len(g.seen) != (n+7)/8 {
		t.Fatalf("reader's bitmap has %d bytes, want %d", len(g.seen), (n+7)/8)
	}
	return g
}

func (g result) count() (c int) {
	for _, b := range g.seen {
		for ; b != 0; b &= b - 1 {
			c++
		}
	}
	return c
}

// checkDisjoint checks that no frame went to both readers.
func checkDisjoint(t *testing.T, res []result) {
	t.Helper()
	for i := range res[0].seen {
		if both := res[0].seen[i] & res[1].seen[i]; both != 0 {
			t.Fatalf("frames near %d went to both readers (%08b)", i*8, both)
		}
	}
}
