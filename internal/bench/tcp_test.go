package bench_test

import (
	"context"
	"testing"

	"github.com/ndshm/ndshm/internal/bench"
	"github.com/ndshm/ndshm/internal/hosts"
)

// TestTCPCopy: the raw copy moves every byte and reports what it
// measured.
func TestTCPCopy(t *testing.T) {
	s := hosts.New(t, 2)
	for _, n := range []int64{1, 5 << 20} {
		r, err := bench.TCPCopy(context.Background(), s[0], s[1], n)
		if err != nil {
			t.Fatal(err)
		}
		if r.Size != n || r.Secs <= 0 || r.Rate <= 0 || r.Copies != 1 || r.SendCPU < 0 || r.RecvCPU < 0 {
			t.Errorf("TCPCopy(%d) = %+v", n, r)
		}
	}
}

// TestTCPCopyCancel: a copy whose context ends returns, killing its
// peers, rather than hang.
func TestTCPCopyCancel(t *testing.T) {
	s := hosts.New(t, 2)
	if err := s.Netem(0, 1_000_000); err != nil { // 1 Mbit/s: 8 s a MiB
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := bench.TCPCopy(ctx, s[0], s[1], 1<<20); err == nil {
		t.Error("TCPCopy with an ended context succeeded")
	}
}

// BenchmarkTCPCopy copies 256 MiB from one host to another over plain
// veth and through rate limits: the ceiling for ndshm bench flight; and,
// for scale, within one host, over its loopback. Its MB/s includes
// starting the two peer processes; GB/s is the copy's own.
func BenchmarkTCPCopy(b *testing.B) {
	const n = 256 << 20
	for _, tc := range []struct {
		name string
		rate int64 // bits/s, 0 for none
		to   int   // the receiving host
	}{{"loopback", 0, 0}, {"veth", 0, 1}, {"10gbit", 10e9, 1}, {"1gbit", 1e9, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			s := hosts.New(b, 2)
			if err := s.Netem(0, tc.rate); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(n)
			b.ReportAllocs()
			var sum bench.TCPResult
			for b.Loop() {
				r, err := bench.TCPCopy(context.Background(), s[0], s[tc.to], n)
				if err != nil {
					b.Fatal(err)
				}
				sum.Secs += r.Secs
				sum.SendCPU += r.SendCPU
				sum.RecvCPU += r.RecvCPU
			}
			k := float64(b.N)
			b.ReportMetric(n*k/sum.Secs/1e9, "GB/s")
			b.ReportMetric(sum.SendCPU/k, "send-cpu-ns/GB")
			b.ReportMetric(sum.RecvCPU/k, "recv-cpu-ns/GB")
		})
	}
}
