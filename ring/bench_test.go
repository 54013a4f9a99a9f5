package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// The benchmarks measure the transport only: the writer stores one word
// of each frame (its seq) and readers check that word, never the rest.
// `ndshm bench ring` runs the same measures with readers in other
// processes and against a unix socket.

// benchSpin is the readers' polling time in the spinning variants.
const benchSpin = 50 * time.Microsecond

// BenchmarkRingThroughput publishes frames as fast as a Broadcast/Backpressure
// ring's backpressure allows to 1 or 2 reader goroutines.
func BenchmarkRingThroughput(b *testing.B) {
	for _, c := range []struct {
		size, slots, readers int
	}{
		{64, 8, 1}, {64, 8, 2}, {64 << 10, 8, 1}, {64 << 10, 8, 2},
		{1 << 20, 8, 1}, {1 << 20, 8, 2}, {100 << 20, 3, 2}, // 300 MiB: the one big ring
	} {
		b.Run(fmt.Sprintf("%s/readers=%d", benchSizeName(c.size), c.readers), func(b *testing.B) {
			benchThroughput(b, c.size, c.slots, c.readers, 0)
		})
	}
}

// BenchmarkRingSPSC is one writer and one reader of 64-byte frames, the
// reader sleeping when it catches up (block) or polling first (spin).
func BenchmarkRingSPSC(b *testing.B) {
	for _, spin := range []time.Duration{0, benchSpin} {
		b.Run(benchSpinName(spin), func(b *testing.B) { benchThroughput(b, 64, 8, 1, spin) })
	}
}

func benchThroughput(b *testing.B, size, slots, readers int, spin time.Duration) {
	r := benchRing(b, size, slots)
	wait := benchDrain(b, r, readers, spin)
	w, err := r.Writer()
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu := benchCPU()
	for b.Loop() {
		f, err := w.Loan(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		binary.LittleEndian.PutUint64(f.Bytes(), f.Seq)
		if err := w.Publish(f.Seq); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := b.Elapsed()
	w.Close()
	for i, n := range wait() {
		if n != b.N {
			b.Errorf("reader %d got %d frames of %d", i, n, b.N)
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "frames/s")
	b.ReportMetric((benchCPU()-cpu).Seconds()*1e6/float64(b.N), "cpu-µs/frame")
}

// benchDrain subscribes n readers that read one word of every frame in their
// own goroutines; wait returns how many frames each read by the end.
func benchDrain(b *testing.B, r *ring.Ring, n int, spin time.Duration) (wait func() []int) {
	got := make([]int, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	for i := range n {
		rd, err := r.Reader()
		if err != nil {
			b.Fatal(err)
		}
		rd.SetSpin(spin)
		wg.Go(func() {
			defer rd.Close()
			for {
				f, err := rd.Next(ctx)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						b.Error(err)
					}
					return
				}
				if v := binary.LittleEndian.Uint64(f.Bytes()); v != f.Seq {
					b.Errorf("frame %d holds %d", f.Seq, v)
				}
				got[i]++
			}
		})
	}
	return func() []int {
		wg.Wait()
		cancel()
		return got
	}
}

func benchRing(b *testing.B, size, slots int) *ring.Ring {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint8, Frame: []int{size}, Slots: slots})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r
}

// benchCPU is the user and system time this process has used.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPercentile returns the p-th percentile of ds in µs (nearest rank),
// sorting ds in place.
func benchPercentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := min(max(int(float64(len(ds))*p/100+0.5)-1, 0), len(ds)-1)
	return float64(ds[i]) / 1e3
}

func benchSizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func benchSpinName(d time.Duration) string {
	if d == 0 {
		return "block"
	}
	return "spin"
}

// A ping is a 64-byte frame sent on one ring and echoed on another:
// ns/op is the round trip, and p50-µs and p99-µs are one hop, from
// Publish to the reader being awake with the frame (Frame.Time against
// the reader's clock, which is the same clock in every process).

// BenchmarkRingPing echoes frames between two goroutines.
func BenchmarkRingPing(b *testing.B) {
	for _, spin := range []time.Duration{0, benchSpin} {
		b.Run(benchSpinName(spin), func(b *testing.B) {
			ping, pong := benchRing(b, 64, 2), benchRing(b, 64, 2)
			in, out := benchReader(b, ping, spin), benchWriter(b, pong)
			done := make(chan error, 1)
			go func() { done <- benchEcho(in, out) }()
			benchPingPong(b.Context(), b, ping, pong, spin)
			if err := <-done; err != nil {
				b.Error(err)
			}
		})
	}
}

// BenchmarkRingPingProcess echoes frames through another process, which
// runs benchEchoRole.
func BenchmarkRingPingProcess(b *testing.B) {
	for _, spin := range []time.Duration{0, benchSpin} {
		b.Run(benchSpinName(spin), func(b *testing.B) {
			ping, pong := benchRing(b, 64, 2), benchRing(b, 64, 2)
			cmd := shmtest.Command("bench-echo", ping.Name(), pong.Name(), spin.String())
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			// An echo that dies ends the pings at once; one that lives ends
			// once benchPingPong's writer closes.
			ctx, cancel := context.WithCancel(b.Context())
			exited := make(chan struct{})
			var werr error
			go func() { werr = cmd.Wait(); cancel(); close(exited) }()
			b.Cleanup(func() {
				if <-exited; werr != nil {
					b.Errorf("echo process: %v", werr)
				}
			})
			benchPingPong(ctx, b, ping, pong, spin)
		})
	}
}

// benchPingPong sends a frame on ping and waits for its echo on pong, once
// per iteration; the echo carries the first hop's latency in its first
// word. Closing ping ends the echo.
func benchPingPong(ctx context.Context, b *testing.B, ping, pong *ring.Ring, spin time.Duration) {
	in := benchReader(b, pong, spin)
	w := benchWriter(b, ping)
	defer w.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ping.WaitReaders(ctx, 1); err != nil {
		b.Fatal(err)
	}
	hops := make([]time.Duration, 0, 1<<16) // the first 32768 round trips
	b.ReportAllocs()
	for b.Loop() {
		f, err := w.Loan(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Publish(f.Seq); err != nil {
			b.Fatal(err)
		}
		e, err := in.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if e.Tag != f.Seq {
			b.Fatalf("echo of frame %d for frame %d", e.Tag, f.Seq)
		}
		if len(hops) < cap(hops) {
			hops = append(hops, time.Since(e.Time), time.Duration(binary.LittleEndian.Uint64(e.Bytes())))
		}
	}
	b.ReportMetric(benchPercentile(hops, 50), "p50-µs")
	b.ReportMetric(benchPercentile(hops, 99), "p99-µs")
}

// benchEcho publishes every frame that in receives on out, tagged with its
// seq and holding how long it took to arrive, until in's writer closes.
func benchEcho(in *ring.Reader, out *ring.Writer) error {
	defer out.Close()
	ctx := context.Background()
	for {
		f, err := in.Next(ctx)
		hop := time.Since(f.Time)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		e, err := out.Loan(ctx)
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(e.Bytes(), uint64(hop))
		if err := out.Publish(f.Seq); err != nil {
			return err
		}
	}
}

// benchEchoRole is the echo process: args are the ping ring, the pong
// ring and the readers' spin. It takes the pong writer before it
// subscribes to ping, so that the pinger, which waits for that, never
// pings before the echo can answer.
func benchEchoRole(args []string) int {
	err := func() error {
		if len(args) != 3 {
			return fmt.Errorf("want PING PONG SPIN, got %q", args)
		}
		spin, err := time.ParseDuration(args[2])
		if err != nil {
			return err
		}
		ping, err := ring.Open(args[0])
		if err != nil {
			return err
		}
		defer ping.Close()
		pong, err := ring.Open(args[1])
		if err != nil {
			return err
		}
		defer pong.Close()
		w, err := pong.Writer()
		if err != nil {
			return err
		}
		rd, err := ping.Reader()
		if err != nil {
			w.Close()
			return err
		}
		defer rd.Close()
		rd.SetSpin(spin)
		return benchEcho(rd, w)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-echo:", err)
		return 1
	}
	return 0
}

func benchReader(b *testing.B, r *ring.Ring, spin time.Duration) *ring.Reader {
	rd, err := r.Reader()
	if err != nil {
		b.Fatal(err)
	}
	rd.SetSpin(spin)
	b.Cleanup(func() { rd.Close() })
	return rd
}

func benchWriter(b *testing.B, r *ring.Ring) *ring.Writer {
	w, err := r.Writer()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	return w
}
