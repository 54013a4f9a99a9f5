package flight_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
)

const benchSize = 256 << 20

// BenchmarkPull pulls a 256 MiB block over loopback into a new block
// (fresh mapping: each pull makes and first-touches its block), at two
// batch sizes. Compare with BenchmarkRawTCP in the same run.
func BenchmarkPull(b *testing.B) {
	src := create(b, ndshm.Spec{DType: ndshm.Float64, Shape: []int{benchSize / 8}})
	for _, run := range []struct {
		chunk    int
		prefault bool
	}{{1 << 20, true}, {1 << 20, false}, {4 << 20, true}} {
		chunk := run.chunk
		b.Run(fmt.Sprintf("chunk=%dMiB/prefault=%v", chunk>>20, run.prefault), func(b *testing.B) {
			flight.Prefault(run.prefault)
			defer flight.Prefault(true)
			addr := serve(b, &flight.Server{Chunk: chunk, Logf: func(string, ...any) {}})
			c := dial(b, addr, flight.DialOptions{})
			b.SetBytes(benchSize)
			b.ReportAllocs()
			for b.Loop() {
				dst, err := c.Pull(context.Background(), src.Name(), shmtest.Name())
				if err != nil {
					b.Fatal(err)
				}
				dst.Close() // owned: unlinked
			}
		})
	}
}

// BenchmarkPullVsTCP alternates, in each iteration, a pull of a
// 256 MiB block over loopback (into a new block, prefaulting) with a raw
// TCP copy of the same bytes into a new block (fresh mapping, the same
// landing) and into a reused heap buffer (warm, the ceiling), and
// reports each one's GB/s and the pull's ratio to each: ratios from
// neighbouring runs, so that a machine shared with other work skews them
// less than separate benchmarks.
func BenchmarkPullVsTCP(b *testing.B) {
	src := create(b, ndshm.Spec{DType: ndshm.Float64, Shape: []int{benchSize / 8}})
	addr := serve(b, &flight.Server{Chunk: 1 << 20, Logf: func(string, ...any) {}})
	c := dial(b, addr, flight.DialOptions{Chunk: 1 << 20})
	tcp := rawServer(b, src.Bytes())
	buf := make([]byte, benchSize)
	var pull, fresh, warm time.Duration
	for b.Loop() {
		start := time.Now()
		dst, err := c.Pull(context.Background(), src.Name(), shmtest.Name())
		if err != nil {
			b.Fatal(err)
		}
		pull += time.Since(start)
		dst.Close()
		start = time.Now()
		dst, err = ndshm.Create(shmtest.Name(), src.Spec())
		if err != nil {
			b.Fatal(err)
		}
		rawCopy(b, tcp, dst.Bytes())
		fresh += time.Since(start)
		dst.Close()
		start = time.Now()
		rawCopy(b, tcp, buf)
		warm += time.Since(start)
	}
	n := float64(b.N) * benchSize / 1e9
	b.ReportMetric(n/pull.Seconds(), "pull-GB/s")
	b.ReportMetric(n/fresh.Seconds(), "tcp-fresh-GB/s")
	b.ReportMetric(n/warm.Seconds(), "tcp-warm-GB/s")
	b.ReportMetric(fresh.Seconds()/pull.Seconds(), "pull/tcp-fresh")
	b.ReportMetric(warm.Seconds()/pull.Seconds(), "pull/tcp-warm")
}

// rawServer serves p to every TCP connection on a loopback port until
// the benchmark ends, and returns its address.
func rawServer(b *testing.B, p []byte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write(p)
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// rawCopy reads len(dst) bytes from a new connection to addr into dst.
func rawCopy(b *testing.B, addr string, dst []byte) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.ReadFull(conn, dst); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRawTCP copies the same 256 MiB over a loopback TCP
// connection, the ceiling: into a reused heap buffer (warm), and into a
// new block each time (fresh mapping, as Pull lands).
func BenchmarkRawTCP(b *testing.B) {
	src := create(b, ndshm.Spec{DType: ndshm.Float64, Shape: []int{benchSize / 8}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write(src.Bytes())
			conn.Close()
		}
	}()
	buf := make([]byte, benchSize)
	copyOnce := func(b *testing.B, dst []byte) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.ReadFull(conn, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("heap-warm", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			copyOnce(b, buf)
		}
	})
	b.Run("block-fresh", func(b *testing.B) {
		b.SetBytes(benchSize)
		for b.Loop() {
			dst, err := ndshm.Create(shmtest.Name(), src.Spec())
			if err != nil {
				b.Fatal(err)
			}
			copyOnce(b, dst.Bytes())
			dst.Close()
		}
	})
}
