package ring_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// A Python writer killed with SIGKILL mid-stream: a Go reader gets the
// frames it published, then an error wrapping io.ErrUnexpectedEOF; a
// Python reader raises WriterDied (ring-recv exits 1 saying so); Stat
// calls the writer dead, and a new writer continues its sequence.
func TestPythonWriterKilled(t *testing.T) {
	r := pyRing(t, ring.Config{DType: ndshm.Float32, Frame: []int{16}, Slots: 4})
	pr := pyHelper(t, nil, "ring-recv", r.Name(), "--timeout", "10s")
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, 2); err != nil {
		t.Fatal(err)
	}
	pw := pyScript(t, `
with ndshm.Ring(sys.argv[1]) as r:
    w = r.writer()
    for i in range(3):
        slot, a = w.loan(timeout=10)
        a[...] = w.seq
        w.publish(w.seq)
    print('sent', flush=True)
    time.sleep(60)
`, r.Name())
	if l := pw.line(); l != "sent" {
		t.Fatalf("python writer said %q", l)
	}
	for i := range 3 {
		f, err := rd.Next(ctx)
		if err != nil || f.Seq != uint64(i) || !pyIntact(ndshm.Float32, f.Bytes(), f.Seq) {
			t.Fatalf("frame %d: seq %d, %v", i, f.Seq, err)
		}
	}
	pw.kill()
	t0 := time.Now()
	_, err = rd.Next(ctx)
	t.Logf("Go reader, %v after the kill: %v", time.Since(t0), err)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want io.ErrUnexpectedEOF, got %v", err)
	}
	if st := r.Stat(); st.Writer != "dead" {
		t.Errorf("Stat says the writer is %q, want dead", st.Writer)
	}
	if err := pr.result(nil); err == nil || !strings.Contains(pr.stderr.String(), "died") {
		t.Errorf("python reader: exit %v, stderr %q", err, pr.stderr.String())
	}
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if f, err := w.Loan(ctx); err != nil || f.Seq != 3 {
		t.Errorf("the next writer loans frame %d, %v; want 3", f.Seq, err)
	}
}

// A Python reader killed while it holds a frame does not wedge a Go
// writer under Block: its place and frame are reclaimed within a few
// ticks.
func TestPythonReaderKilled(t *testing.T) {
	r := pyRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{64}, Slots: 2})
	p := pyScript(t, `
r = ndshm.Ring(sys.argv[1])
rd = r.reader()
print('joined', flush=True)
f = rd.recv(timeout=10)
print('holding', f.seq, flush=True)
time.sleep(60)
`, r.Name())
	if l := p.line(); l != "joined" {
		t.Fatalf("python said %q", l)
	}
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	loan := func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f, err := w.Loan(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		w.Publish(uint64(i))
		_ = f
	}
	loan(0)
	loan(1)
	if l := p.line(); l != "holding 0" {
		t.Fatalf("python said %q", l)
	}
	if st := r.Stat(); len(st.Readers) != 1 || st.Readers[0].Holding != 0 || !st.Readers[0].Alive {
		t.Fatalf("stat while python holds frame 0: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = w.Loan(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the writer took slot 0 from a live reader holding it: %v", err)
	}
	p.kill()
	t0 := time.Now()
	loan(2)
	t.Logf("writer went on %v after the kill", time.Since(t0))
	if st := r.Stat(); len(st.Readers) != 0 {
		t.Errorf("the dead reader's place is still taken: %+v", st.Readers)
	}
}

// A Python reader that holds each frame a while under Overwrite, while
// a Go writer laps the ring: the writer never takes a held slot (every
// frame is intact when Python is done with it, none torn), and what
// Python skipped is counted missed.
func TestPythonHoldsUnderOverwrite(t *testing.T) {
	const n = 5000
	r := pyRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{4096}, Slots: 3, Policy: ring.Overwrite})
	p := pyScript(t, `
rd = ndshm.Ring(sys.argv[1]).reader()
print('joined', flush=True)
n = bad = torn = 0
last, order = -1, True
while True:
    try:
        f = rd.recv(timeout=10)
    except ndshm.TornFrame:     # releasing the frame before
        torn += 1
        continue
    if f is None:
        break
    end = time.perf_counter() + 0.0003
    while time.perf_counter() < end:    # hold it while the writer laps the ring
        pass
    bad += not (f.array == f.seq % 256).all()
    order, last, n = order and f.seq > last, f.seq, n + 1
print(json.dumps({'n': n, 'bad': bad, 'torn': torn, 'order': order, 'missed': rd.missed, 'last': last}))
`, r.Name())
	if l := p.line(); l != "joined" {
		t.Fatalf("python said %q", l)
	}
	pyPublish(t, r, n, -1)
	var got struct {
		N, Bad, Torn, Missed, Last int
		Order                      bool
	}
	if err := p.result(&got); err != nil {
		t.Fatalf("python: %v\n%s", err, p.stderr.String())
	}
	t.Logf("python: %+v", got)
	if got.N == 0 || got.Bad != 0 || got.Torn != 0 || !got.Order || got.Last != n-1 || got.N+got.Missed != n {
		t.Fatalf("%d frames published; python %+v", n, got)
	}
}
