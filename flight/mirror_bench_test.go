package flight_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// BenchmarkMirror mirrors frames of a block-policy ring over loopback,
// server, mirror, writer and local reader all in this process: frames/s
// end to end (published remotely to received locally), and the frames
// lost (which must be 0). Each frame is copied by gRPC's marshalling on
// the sending side and once into the local slot; the writer does not
// fill its frames, so the figure is the transfer's alone, on rings whose
// pages are all faulted in (warm).
func BenchmarkMirror(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("frame=%dMiB", size>>20), func(b *testing.B) { benchMirror(b, size) })
	}
}

func benchMirror(b *testing.B, size int) {
	slots := 4
	if size > 16<<20 {
		slots = 2
	}
	remote := makeRing(b, ring.Config{DType: ndshm.Uint8, Frame: []int{size}, Slots: slots})
	srv := &flight.Server{}
	flight.ServeRings(srv)
	c := dial(b, serve(b, srv), flight.DialOptions{})
	local := shmtest.Name()
	m := startMirror(b, c, remote.Name(), local, flight.MirrorOptions{})
	rd, err := openWhenThere(b, local).Reader()
	if err != nil {
		b.Fatal(err)
	}
	defer rd.Close()
	eventually(b, "the server's reader", func() bool { return readers(remote) == 1 })
	w, err := remote.Writer()
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var count atomic.Int64
	got := make(chan int)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // the local reader: every frame, in order
		n := 0
		for {
			f, err := rd.Next(ctx)
			if err != nil {
				got <- n
				return
			}
			if f.Tag != uint64(n) {
				b.Errorf("frame %d has tag %d", n, f.Tag)
			}
			n++
			count.Store(int64(n))
		}
	}()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	start := time.Now()
	for b.Loop() {
		if _, err := w.Loan(ctx); err != nil {
			b.Fatal(err)
		}
		w.Publish(uint64(n))
		n++
	}
	for end := time.Now().Add(time.Minute); count.Load() < int64(n) && time.Now().Before(end); {
		time.Sleep(100 * time.Microsecond)
	}
	took := time.Since(start)
	cancel()
	recv := <-got
	st, err := m.stop()
	if err != nil || recv != n || st.Lost != 0 {
		b.Errorf("published %d, received %d; mirror %+v, %v", n, recv, st, err)
	}
	b.ReportMetric(float64(n)/took.Seconds(), "frames/s")
	b.ReportMetric(float64(st.Lost), "lost")
}

// BenchmarkMirrorRawTCP is the ceiling in the same run: the same bytes
// written to a loopback TCP connection and read into one buffer, with no
// framing, no rings, no Flight.
func BenchmarkMirrorRawTCP(b *testing.B) {
	for _, size := range []int{1 << 20, 100 << 20} {
		b.Run(fmt.Sprintf("frame=%dMiB", size>>20), func(b *testing.B) { benchRawTCP(b, size) })
	}
}

func benchRawTCP(b *testing.B, size int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(conn, buf); err != nil {
				done <- nil
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	src := make([]byte, size)
	b.SetBytes(int64(size))
	start, n := time.Now(), 0
	for b.Loop() {
		if _, err := conn.Write(src); err != nil {
			b.Fatal(err)
		}
		n++
	}
	conn.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "frames/s")
}
