package ring_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// pyRecvReport is what Python's ring-recv prints (as ndshm ring recv --json).
type pyRecvReport struct {
	Frames, Dup, Torn int
	Lost, Missed      uint64
	FPS               float64
	P50               float64 `json:"p50_us"`
}

// Python's ring-recv, a broadcast reader, receives what a Go writer
// publishes to the end of the stream: every frame under Block, in order,
// with the pattern intact; under Overwrite, some frames, none torn, and
// the rest counted lost. A frame written wrong must be caught. Without
// futexes (NDSHM_FUTEX=0) Python polls and Go falls back on its tick.
func TestPythonReceives(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dt     ndshm.DType
		pol    ring.Policy
		slots  int
		n, bad int
		env    []string
	}{
		{"u1", ndshm.Uint8, ring.Block, 4, 200, -1, nil},
		{"f4", ndshm.Float32, ring.Block, 4, 200, -1, nil},
		{"f4/poll", ndshm.Float32, ring.Block, 4, 100, -1, []string{"NDSHM_FUTEX=0"}},
		{"u1/bad", ndshm.Uint8, ring.Block, 4, 20, 7, nil},
		{"u1/overwrite", ndshm.Uint8, ring.Overwrite, 3, 3000, -1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pyRing(t, ring.Config{DType: tc.dt, Frame: []int{64, 64}, Slots: tc.slots, Policy: tc.pol})
			p := pyHelper(t, tc.env, "ring-recv", r.Name(), "--verify", "--timeout", "10s")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.WaitReaders(ctx, 1); err != nil {
				t.Fatalf("python never subscribed: %v\n%s", err, p.stderr.String())
			}
			t0 := time.Now()
			pyPublish(t, r, tc.n, tc.bad)
			var rep pyRecvReport
			err := p.result(&rep)
			t.Logf("%v: python %+v, exit %v", time.Since(t0), rep, err)
			switch {
			case tc.bad >= 0 && (err == nil || rep.Torn != 1 || rep.Frames != tc.n):
				t.Fatalf("frame %d written wrong: python reports %+v, exit %v", tc.bad, rep, err)
			case tc.bad >= 0:
			case err != nil:
				t.Fatalf("python: %v\n%s", err, p.stderr.String())
			case rep.Dup != 0 || rep.Torn != 0 || rep.Frames+int(rep.Lost) != tc.n || rep.Frames == 0:
				t.Fatalf("%d frames sent, python reports %+v", tc.n, rep)
			case tc.pol == ring.Block && (rep.Frames != tc.n || rep.Missed != 0):
				t.Fatalf("Block policy lost frames: %+v", rep)
			}
		})
	}
}

// A Python reader and a Go reader on one Broadcast ring of two slots:
// the Go writer waits for the slower of them, and both get every frame.
func TestPythonAndGoReaders(t *testing.T) {
	const n = 300
	r := pyRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{32, 32}, Slots: 2})
	p := pyHelper(t, nil, "ring-recv", r.Name(), "--verify", "--timeout", "10s")
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, 2); err != nil {
		t.Fatalf("python never subscribed: %v\n%s", err, p.stderr.String())
	}
	var got []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			f, err := rd.Next(ctx)
			if err != nil {
				if err != io.EOF {
					t.Error(err)
				}
				return
			}
			if !pyIntact(ndshm.Uint8, f.Bytes(), f.Seq) {
				t.Errorf("frame %d is not intact", f.Seq)
			}
			got = append(got, f.Seq)
		}
	}()
	pyPublish(t, r, n, -1)
	<-done
	var rep pyRecvReport
	if err := p.result(&rep); err != nil || rep.Frames != n || rep.Lost != 0 || rep.Dup != 0 || rep.Torn != 0 {
		t.Fatalf("python reports %+v, exit %v\n%s", rep, err, p.stderr.String())
	}
	if !pySeq(got, n) {
		t.Fatalf("Go reader got %d frames: %v", len(got), got)
	}
}
