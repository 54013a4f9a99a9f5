package handoff_test

import (
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
// byte, which the test sets to a value the peer cannot guess.
func TestPeerTouchesData(t *testing.T) {
	c := startPeer(t)
	name := shmtest.Name()
	b, err := ndshm.Create(name, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{5000}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	b.Bytes()[4999] = 77
	if _, err := c.Named(name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Named(name + "-missing"); err == nil {
		t.Fatal("peer answered for a block that does not exist")
	}
}

func TestBenchResults(t *testing.T) {
	c := startPeer(t)
	rs, err := c.Bench(context.Background(), shmtest.Name(), []int{1 << 10, 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("got %d results, want 4", len(rs))
	}
	for _, r := range rs {
		if r.P50 <= 0 || r.P99 < r.P50 || r.Runs < 5 {
			t.Errorf("implausible result %+v", r)
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
			run(b, size, func() (time.Duration, error) { return c.Named(name) })
		})
		b.Run(fmt.Sprintf("copy/%d", size), func(b *testing.B) {
			run(b, size, func() (time.Duration, error) { return c.Copy(blk.Bytes()) })
		})
		blk.Close()
	}
}

func run(b *testing.B, size int, f func() (time.Duration, error)) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var ds []time.Duration
	for b.Loop() {
		d, err := f()
		if err != nil {
			b.Fatal(err)
		}
		ds = append(ds, d)
	}
	b.ReportMetric(handoff.Percentile(ds, 50), "p50-µs")
	b.ReportMetric(handoff.Percentile(ds, 99), "p99-µs")
}
