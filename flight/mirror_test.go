package flight_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/flight"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

// makeRing creates a ring for this test and removes it when it ends.
func makeRing(t testing.TB, c ring.Config) *ring.Ring {
	t.Helper()
	r, err := ring.Create(shmtest.Name(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// eventually waits up to 10 s for ok.
func eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// readers returns the number of readers subscribed to r.
func readers(r *ring.Ring) int { return len(r.Stat().Readers) }

// mirrorRun is a Mirror running in the background.
type mirrorRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	stats  flight.MirrorStats
	err    error
}

// startMirror runs Mirror until stop (or the test's end).
func startMirror(t testing.TB, c *flight.Client, remote, local string, o flight.MirrorOptions) *mirrorRun {
	ctx, cancel := context.WithCancel(context.Background())
	m := &mirrorRun{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		m.stats, m.err = flight.Mirror(ctx, c, remote, local, o)
	}()
	t.Cleanup(func() { m.stop() })
	return m
}

// stop ends the mirror and returns its stats and its error, other than
// the cancellation.
func (m *mirrorRun) stop() (flight.MirrorStats, error) {
	m.cancel()
	<-m.done
	if errors.Is(m.err, context.Canceled) {
		return m.stats, nil
	}
	return m.stats, m.err
}

// openWhenThere opens the local ring once Mirror has made it.
func openWhenThere(t testing.TB, name string) *ring.Ring {
	t.Helper()
	var r *ring.Ring
	eventually(t, "the local ring "+name, func() bool {
		var err error
		r, err = ring.Open(name)
		return err == nil
	})
	t.Cleanup(func() { r.Close() })
	return r
}

// publish writes frames first..first+n-1 of ring send's pattern to w,
// pausing pace after each.
func publish(t testing.TB, w *ring.Writer, p *stream.Pattern, first, n uint64, pace time.Duration) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if pace > 0 {
			time.Sleep(pace)
		}
		f, err := w.Loan(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		p.Fill(f.Bytes(), i)
		if err := w.Publish(i); err != nil {
			t.Error(err)
			return
		}
	}
}

// TestMirrorBlock: under the block policy a mirrored ring delivers every
// frame exactly once, in order, whole, while a slow local reader holds
// the remote writer back.
func TestMirrorBlock(t *testing.T) {
	const n, delay = 300, 3 * time.Millisecond
	frame := []int{1000, 131} // 262000 bytes of uint16: 4 batches of up to 64 KiB
	remote := makeRing(t, ring.Config{DType: ndshm.Uint16, Frame: frame, Slots: 4})
	srv := &flight.Server{Chunk: 64 << 10}
	flight.ServeRings(srv)
	c := dial(t, serve(t, srv), flight.DialOptions{})
	local := shmtest.Name()
	m := startMirror(t, c, remote.Name(), local, flight.MirrorOptions{})
	lr := openWhenThere(t, local)
	rd, err := lr.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	eventually(t, "the server's reader", func() bool { return readers(remote) == 1 })

	p, _ := stream.NewPattern(remote.Block().DType())
	wp, _ := stream.NewPattern(remote.Block().DType()) // the writer's: a Pattern is not safe to share
	w, err := remote.Writer()
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan time.Duration)
	go func() {
		start := time.Now()
		publish(t, w, wp, 0, n, 0)
		wrote <- time.Since(start)
		w.Close()
	}()
	start := time.Now()
	for i := range uint64(n) {
		f, err := rd.Next(context.Background())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Tag != i || !p.Check(f.Bytes(), i) {
			t.Fatalf("frame %d: tag %d, pattern ok %v", i, f.Tag, p.Check(f.Bytes(), f.Tag))
		}
		time.Sleep(delay)
	}
	read := time.Since(start)
	took := <-wrote
	// The writer could run ahead of the reader by the slots of both rings
	// and what the connection buffers (16 MiB windows: 64 frames), no more.
	if min := time.Duration(n-150) * delay; took < min {
		t.Errorf("the writer took %v for %d frames the reader took %v for: not held back (want >= %v)", took, n, read, min)
	}
	if _, err := rd.Next(context.Background()); !errors.Is(err, io.EOF) {
		t.Errorf("after the remote writer closed: %v, want io.EOF", err)
	}
	st, err := m.stop()
	if err != nil || st.Frames != n || st.Lost != 0 || st.Aborted != 0 {
		t.Errorf("Mirror: %+v, %v; want %d frames, none lost", st, err, n)
	}
}

// TestMirrorOverwrite: under the overwrite policy a fast writer and a
// slow local reader lose frames, but no frame that reaches the local
// ring is torn: each one holds its own pattern, in order.
func TestMirrorOverwrite(t *testing.T) {
	const n = 3000
	remote := makeRing(t, ring.Config{DType: ndshm.Uint32, Frame: []int{4096}, Slots: 4, Policy: ring.Overwrite})
	srv := &flight.Server{Chunk: 4 << 10} // 4 batches a frame: more to tear
	flight.ServeRings(srv)
	c := dial(t, serve(t, srv), flight.DialOptions{})
	local := shmtest.Name()
	m := startMirror(t, c, remote.Name(), local, flight.MirrorOptions{})
	lr := openWhenThere(t, local)
	if lr.Policy() != ring.Overwrite {
		t.Errorf("local ring's policy %v, want the remote's", lr.Policy())
	}
	rd, err := lr.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	eventually(t, "the server's reader", func() bool { return readers(remote) == 1 })
	w, err := remote.Writer()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		wp, _ := stream.NewPattern(ndshm.Uint32)
		publish(t, w, wp, 0, n, 50*time.Microsecond)
		w.Close()
	}()
	p, _ := stream.NewPattern(ndshm.Uint32)
	got, last := 0, int64(-1)
	for {
		f, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		if int64(f.Tag) <= last || !p.Check(f.Bytes(), f.Tag) {
			t.Fatalf("frame with tag %d after tag %d: pattern ok %v", f.Tag, last, p.Check(f.Bytes(), f.Tag))
		}
		time.Sleep(100 * time.Microsecond)
		if err := rd.Release(); err != nil {
			t.Fatalf("frame %d: %v", f.Tag, err)
		}
		got, last = got+1, int64(f.Tag)
	}
	st, err := m.stop()
	if err != nil || got == 0 || st.Frames > n || st.Frames < uint64(got) {
		t.Errorf("Mirror: %+v, %v; the reader got %d of %d frames", st, err, got, n)
	}
	t.Logf("received %d of %d frames; mirror %+v", got, n, st)
}

// TestMirrorFanOut: one stream feeds several local readers through
// shared memory: in Broadcast mode each gets every frame, in Queue mode
// (the remote ring's, so the local one's) each frame goes to one of them.
func TestMirrorFanOut(t *testing.T) {
	const n, k = 200, 3
	for _, mode := range []ring.Mode{ring.Broadcast, ring.Queue} {
		t.Run(mode.String(), func(t *testing.T) {
			remote := makeRing(t, ring.Config{DType: ndshm.Uint32, Frame: []int{1000}, Slots: 4, Mode: mode})
			srv := &flight.Server{}
			flight.ServeRings(srv)
			c := dial(t, serve(t, srv), flight.DialOptions{})
			local := shmtest.Name()
			m := startMirror(t, c, remote.Name(), local, flight.MirrorOptions{})
			lr := openWhenThere(t, local)
			if lr.Mode() != mode {
				t.Fatalf("local ring in %v mode, want %v", lr.Mode(), mode)
			}
			tags := make(chan []uint64, k)
			for range k {
				rd, err := lr.Reader()
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					defer rd.Close()
					p, _ := stream.NewPattern(ndshm.Uint32)
					var got []uint64
					for {
						f, err := rd.Next(context.Background())
						if err != nil { // io.EOF: the remote writer closed
							tags <- got
							return
						}
						if !p.Check(f.Bytes(), f.Tag) {
							t.Errorf("frame %d: wrong pattern", f.Tag)
						}
						got = append(got, f.Tag)
					}
				}()
			}
			eventually(t, "the server's reader", func() bool { return readers(remote) == 1 })
			w, err := remote.Writer()
			if err != nil {
				t.Fatal(err)
			}
			wp, _ := stream.NewPattern(ndshm.Uint32)
			publish(t, w, wp, 0, n, 0)
			w.Close()
			seen := map[uint64]int{}
			for range k {
				got := <-tags
				for i, tag := range got {
					if i > 0 && tag <= got[i-1] {
						t.Errorf("reader got tag %d after %d", tag, got[i-1])
					}
					seen[tag]++
				}
				if mode == ring.Broadcast && len(got) != n {
					t.Errorf("a broadcast reader got %d of %d frames", len(got), n)
				}
			}
			want := map[ring.Mode]int{ring.Broadcast: k, ring.Queue: 1}[mode]
			for i := range uint64(n) {
				if seen[i] != want {
					t.Errorf("frame %d received %d times, want %d", i, seen[i], want)
				}
			}
			if st, err := m.stop(); err != nil || st.Frames != n || st.Lost != 0 {
				t.Errorf("Mirror: %+v, %v", st, err)
			}
		})
	}
}
