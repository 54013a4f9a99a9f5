package handoff_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/handoff"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func TestMain(m *testing.M) {
	shmtest.Main(m, map[string]func([]string) int{
		"peer": func([]string) int {
			if err := handoff.ServeFd3(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			return 0
		},
	})
}

func startPeer(t testing.TB) *handoff.Client {
	c, err := handoff.Start(shmtest.Command("peer"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("peer: %v", err)
		}
	})
	return c
}

// The peer must really read what it is handed: it answers with the last
// byte, or the sum of all, which the test sets to values the peer cannot
// guess; through a fresh mapping, a warm one (which must see the
// writes made since it was mapped), and a copy.
func TestPeerReadsData(t *testing.T) {
	c := startPeer(t)
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{5000}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d := b.Bytes()
	handoff.Fill(d)
	if _, err := c.Warm(name, handoff.Touch); err != nil { // maps it before the writes below
		t.Fatal(err)
	}
	d[4999], d[0] = 77, 200
	sum := uint64(200 + 77)
	for i := 1; i < 4999; i++ {
		sum += uint64(i % 251)
	}
	for _, tc := range []struct {
		how  string
		r    handoff.Read
		want uint64
		f    func(handoff.Read) (handoff.Reply, error)
	}{
		{"fresh", handoff.Touch, 77, func(r handoff.Read) (handoff.Reply, error) { return c.Fresh(name, r) }},
		{"fresh", handoff.All, sum, func(r handoff.Read) (handoff.Reply, error) { return c.Fresh(name, r) }},
		{"warm", handoff.Touch, 77, func(r handoff.Read) (handoff.Reply, error) { return c.Warm(name, r) }},
		{"warm", handoff.All, sum, func(r handoff.Read) (handoff.Reply, error) { return c.Warm(name, r) }},
		{"copy", handoff.Touch, 77, func(r handoff.Read) (handoff.Reply, error) { return c.Copy(d, r) }},
		{"copy", handoff.All, sum, func(r handoff.Read) (handoff.Reply, error) { return c.Copy(d, r) }},
	} {
		rep, err := tc.f(tc.r)
		if err != nil || rep.Value != tc.want || rep.Took <= 0 {
			t.Errorf("%s %v: %+v, %v; want value %d", tc.how, tc.r, rep, err, tc.want)
		}
	}
	if _, err := c.Huge(name); err != nil {
		t.Error(err)
	}
	if err := c.Forget(); err != nil {
		t.Error(err)
	}
	if _, err := c.Fresh(name+"-missing", handoff.Touch); err == nil {
		t.Fatal("peer answered for a block that does not exist")
	}
}

func TestSum(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 1023, 1024, 1025, 5000, 1 << 20} {
		d := make([]byte, n)
		handoff.Fill(d)
		if n > 0 && n-1 != (n-1)%251 && d[n-1] != byte((n-1)%251) {
			t.Errorf("Fill(%d bytes) ends with %d", n, d[n-1])
		}
		if n > 2 {
			d[n/2] = 255 // not the pattern's: a lane's carry must not be lost
		}
		var want uint64
		for _, c := range d {
			want += uint64(c)
		}
		if got := handoff.Sum(d); got != want {
			t.Errorf("Sum of %d bytes = %d, want %d", n, got, want)
		}
	}
	// All 255: every lane at its largest, no carry may be lost.
	d := bytes.Repeat([]byte{255}, 1<<16+5)
	if got := handoff.Sum(d); got != 255*uint64(len(d)) {
		t.Errorf("Sum of %d bytes of 255 = %d, want %d", len(d), got, 255*uint64(len(d)))
	}
}

// HugeMapped finds this process's mapping of a block; whether it is huge
// depends on the machine, so the test checks only that the answer does
// not change with how much of the block is asked about.
func TestHugeMapped(t *testing.T) {
	b, err := ndshm.CreateAnon(ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d := b.Bytes()
	handoff.Fill(d)
	whole, err := handoff.HugeMapped(d)
	if err != nil {
		t.Fatal(err)
	}
	if part, err := handoff.HugeMapped(d[:1]); err != nil || part != whole {
		t.Errorf("HugeMapped(first byte) = %v, %v; of all %v", part, err, whole)
	}
	if h, err := handoff.HugeMapped(nil); h || err != nil {
		t.Errorf("HugeMapped(nil) = %v, %v", h, err)
	}
}

func TestBenchResults(t *testing.T) {
	c := startPeer(t)
	rs, err := c.Bench(context.Background(), shmtest.Name(), []int{1 << 10, 1 << 20}, handoff.Reads)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2*2*3 {
		t.Fatalf("got %d results, want 12", len(rs))
	}
	for i, r := range rs {
		method, mapping := "ndshm", []string{"fresh", "warm", ""}[i%3]
		if mapping == "" {
			method = "unix-socket-copy"
		}
		if r.Method != method || r.Mapping != mapping || r.Read != []string{"touch", "all"}[i/3%2] ||
			r.P50 <= 0 || r.P99 < r.P50 || r.Runs < 5 || (r.Huge != nil) != (method == "ndshm") ||
			(r.VsSocket > 0) != (method == "ndshm") || (r.Sum != nil) != (r.Read == "all") {
			t.Errorf("result %d implausible: %+v", i, r)
		}
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	for _, tc := range []struct{ p, want float64 }{{50, 0.003}, {99, 0.005}, {0, 0.001}, {100, 0.005}} {
		if got := handoff.Percentile(ds, tc.p); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}

// BenchmarkHandoff hands one block of each size to another process by
// name and by copy through a unix socket; compare ns/op between the two
// at one size. p50/p99 are reported in µs.
func BenchmarkHandoff(b *testing.B) {
	c := startPeer(b)
	for _, size := range handoff.Sizes {
		name := shmtest.Name()
		blk, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{size}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("ndshm/%d", size), func(b *testing.B) {
			run(b, size, func() (handoff.Reply, error) { return c.Fresh(name, handoff.Touch) })
		})
		b.Run(fmt.Sprintf("copy/%d", size), func(b *testing.B) {
			run(b, size, func() (handoff.Reply, error) { return c.Copy(blk.Bytes(), handoff.Touch) })
		})
		blk.Close()
	}
}

func run(b *testing.B, size int, f func() (handoff.Reply, error)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var ds []time.Duration
	for b.Loop() {
		rep, err := f()
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, rep.Took)
	}
	b.ReportMetric(handoff.Percentile(ds, 50), "p50-µs")
	b.ReportMetric(handoff.Percentile(ds, 99), "p99-µs")
}
