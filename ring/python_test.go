package ring_test

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// The Python API on a ring a Go writer feeds: np.load sees the slots; a
// second writer is refused; recv times out while nothing is published;
// frames come in order with their tags, as read-only views of the slots;
// a second reader in the process takes a place of its own; Stat's fields
// match Go's; after the Go writer closes, Python takes over
// writing and continues the sequence numbers; a view that outlives
// Ring.close keeps the mapping until it goes.
func TestPythonReaderAPI(t *testing.T) {
	r := pyRing(t, ring.Config{DType: ndshm.Uint16, Frame: []int{3, 5}, Slots: 4})
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	p := pyScript(t, `
name = sys.argv[1]
a = np.load('/dev/shm/' + name, mmap_mode='r')
r = ndshm.Ring(name)
out = {'load': list(a.shape), 'slots': list(r.slots.shape), 'frame': list(r.frame_shape),
       'dtype': r.dtype.str, 'mode': r.mode, 'policy': r.policy}
try:
    r.writer()
except FileExistsError as e:
    out['second_writer'] = str(e)
rd = r.reader()
t0 = time.monotonic()
try:
    rd.recv(timeout=0.05)
except TimeoutError:
    out['timeout_s'] = time.monotonic() - t0
print('subscribed', flush=True)
seqs, tags, ok = [], [], True
for f in rd:
    seqs.append(f.seq); tags.append(f.tag)
    ok = ok and not f.array.flags.writeable and f.array.shape == (3, 5) and (f.array == f.seq).all()
    ok = ok and np.shares_memory(f.array, r.slots)
rd2 = r.reader()   # its own place: each reader locks on a file description of its own
out.update(seqs=seqs, tags=tags, ok=bool(ok), stat=r.stat())
rd.close()
rd2.close()
with r.writer() as w:
    out['next_seq'] = w.seq
keep, mapped = r.slots[1], lambda: name in open('/proc/self/maps').read()
del a, f
r.close()   # a view outlives the Ring: it stays mapped, and unmaps when the view goes
out['kept'] = [mapped(), int(keep[0, 0])]
del keep
out['kept'].append(mapped())
print(json.dumps(out))
`, r.Name())
	if l := p.line(); l != "subscribed" {
		t.Fatalf("python said %q", l)
	}
	const n = 50
	for i := range n {
		f, err := w.Loan(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pyFill(ndshm.Uint16, f.Bytes(), uint64(i))
		w.Publish(uint64(i)*3 + 1)
	}
	w.Close()
	var got struct {
		Load, Slots, Frame, Seqs, Tags []int
		DType, Mode, Policy            string
		SecondWriter                   string  `json:"second_writer"`
		TimeoutS                       float64 `json:"timeout_s"`
		OK                             bool
		Stat                           ring.Stat
		NextSeq                        int `json:"next_seq"`
		Kept                           []any
	}
	if err := p.result(&got); err != nil {
		t.Fatalf("python: %v\n%s", err, p.stderr.String())
	}
	want := []int{4, 3, 5}
	if !slices.Equal(got.Load, want) || !slices.Equal(got.Slots, want) || !slices.Equal(got.Frame, want[1:]) ||
		got.DType != "<u2" || got.Mode != "broadcast" || got.Policy != "block" {
		t.Errorf("python sees %+v", got)
	}
	if !strings.Contains(got.SecondWriter, "live writer") || got.TimeoutS < 0.04 || got.TimeoutS > 2 {
		t.Errorf("second writer: %q; recv(timeout=0.05) took %gs", got.SecondWriter, got.TimeoutS)
	}
	for i := range n {
		if i >= len(got.Seqs) || got.Seqs[i] != i || got.Tags[i] != 3*i+1 {
			t.Fatalf("python got seqs %v tags %v", got.Seqs, got.Tags)
		}
	}
	st := got.Stat
	if !got.OK || len(got.Seqs) != n || st.Name != r.Name() || st.Head != n || st.Writer != "closed" ||
		st.WriterPID != os.Getpid() || st.Slots != 4 || st.FrameBytes != 30 || len(st.Readers) != 2 ||
		st.Readers[0].Received != n || !st.Readers[0].Alive || st.Readers[0].Holding != -1 ||
		st.Readers[1].Place != 1 || st.Readers[1].Next != n || st.Readers[1].Received != 0 {
		t.Errorf("python frames ok %v, stat %+v", got.OK, st)
	}
	if want := []any{true, 49.0, false}; !slices.Equal(got.Kept, want) {
		t.Errorf("a view kept past Ring.close: mapped, [0,0], mapped after del: %v, want %v", got.Kept, want)
	}
	if got.NextSeq != n {
		t.Errorf("a python writer after the Go one starts at frame %d, want %d", got.NextSeq, n)
	}
}

// A Python reader whose cursor is past the writer's head (a head moved
// back by a corrupt or hostile peer) reports the corruption, before
// even the end of the stream, instead of waiting for frames that will
// never come: as Go's Reader does.
func TestPythonCursorPastHead(t *testing.T) {
	r := pyRing(t, ring.Config{DType: ndshm.Uint8, Frame: []int{4}, Slots: 2})
	p := pyScript(t, `
r = ndshm.Ring(sys.argv[1])
rd = r.reader()
print('subscribed', flush=True)
got = [rd.recv(timeout=5).seq for _ in range(2)]
r._st(ndshm.ring._HEAD, 1)   # the head moves back, from 2 to 1
try:
    rd.recv(timeout=1)
    err = ''
except ValueError as e:
    err = str(e)
print(json.dumps({'got': got, 'err': err}))
`, r.Name())
	if l := p.line(); l != "subscribed" {
		t.Fatalf("python said %q", l)
	}
	pyPublish(t, r, 2, -1)
	var out struct {
		Got []int
		Err string
	}
	if err := p.result(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.Got) != 2 || !strings.Contains(out.Err, "past the writer") {
		t.Errorf("python got %v, then error %q; want frames 0 and 1, then a corruption error", out.Got, out.Err)
	}
}

// pyRecvReport is what Python's ring-recv prints (as ndshm ring recv --json).
type pyRecvReport struct {
	Frames, Dup, Torn int
	Lost, Missed      uint64
	FPS               float64
	P50               float64 `json:"p50_us"`
}

// Python's ring-recv, a broadcast reader, receives what a Go writer
// publishes to the end of the stream: every frame under Backpressure, in order,
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
		{"u1", ndshm.Uint8, ring.Backpressure, 4, 200, -1, nil},
		{"f4", ndshm.Float32, ring.Backpressure, 4, 200, -1, nil},
		{"f4/poll", ndshm.Float32, ring.Backpressure, 4, 100, -1, []string{"NDSHM_FUTEX=0"}},
		{"u1/bad", ndshm.Uint8, ring.Backpressure, 4, 20, 7, nil},
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
			case tc.pol == ring.Backpressure && (rep.Frames != tc.n || rep.Missed != 0):
				t.Fatalf("Backpressure policy lost frames: %+v", rep)
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

// goReaders subscribes k Go readers, starts the Python writer and reads
// until the end of the stream, each reader dawdling for delay per frame.
// It checks each frame's pattern, its tag (= seq), that seqs rise and
// that the writer succeeded, and returns each reader's seqs and the
// frames it missed.
func goReaders(t *testing.T, r *ring.Ring, k int, delay time.Duration, writer func() *pyProc) ([][]uint64, []uint64) {
	t.Helper()
	seqs, missed := make([][]uint64, k), make([]uint64, k)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	dt := r.Block().DType()
	for j := range k {
		rd, err := r.Reader()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rd.Close()
			for {
				f, err := rd.Next(ctx)
				if err == io.EOF {
					missed[j] = rd.Missed()
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(delay)
				n := len(seqs[j])
				if !pyIntact(dt, f.Bytes(), f.Seq) || f.Tag != f.Seq || n > 0 && f.Seq <= seqs[j][n-1] {
					t.Errorf("frame %d tag %d after %d frames: pattern intact %v", f.Seq, f.Tag, n, pyIntact(dt, f.Bytes(), f.Seq))
				}
				seqs[j] = append(seqs[j], f.Seq)
				if err := rd.Release(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	p := writer()
	var rep struct{ Frames int }
	if err := p.result(&rep); err != nil {
		t.Errorf("python writer: %v\n%s", err, p.stderr.String())
	}
	wg.Wait()
	t.Logf("python sent %d frames; Go readers got %d, missed %v", rep.Frames, len(slices.Concat(seqs...)), missed)
	return seqs, missed
}

// Go readers receive what Python's ring-send publishes, to the end of
// the stream: under Backpressure every frame in order, under Overwrite (a slow
// reader) a rising run that ends with the last frame, none torn, the
// rest counted missed. Without futexes Python polls.
func TestPythonSends(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dt    ndshm.DType
		pol   ring.Policy
		n     int
		delay time.Duration
		env   []string
	}{
		{"u1", ndshm.Uint8, ring.Backpressure, 300, 0, nil},
		{"f4/overwrite", ndshm.Float32, ring.Overwrite, 300, 200 * time.Microsecond, nil},
		{"u1/poll", ndshm.Uint8, ring.Backpressure, 100, 0, []string{"NDSHM_FUTEX=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pyRing(t, ring.Config{DType: tc.dt, Frame: []int{64, 64}, Slots: 3, Policy: tc.pol})
			seqs, missed := goReaders(t, r, 1, tc.delay, func() *pyProc {
				return pyHelper(t, tc.env, "ring-send", r.Name(), "--frames", strconv.Itoa(tc.n), "--timeout", "10s")
			})
			got := seqs[0]
			if len(got) == 0 || got[len(got)-1] != uint64(tc.n-1) || len(got)+int(missed[0]) != tc.n ||
				tc.pol == ring.Backpressure && len(got) != tc.n {
				t.Fatalf("Go reader got %d frames of %d (missed %d), last %v", len(got), tc.n, missed[0], got[max(len(got)-1, 0):])
			}
		})
	}
}

// Python refuses what it cannot read: a block that is not a ring, a
// reader of a queue ring (no compare-and-swap in Python). It can write
// to a queue ring, and Go readers share its frames out.
func TestPythonQueue(t *testing.T) {
	arr, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4, 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Close()
	r := pyRing(t, ring.Config{DType: ndshm.Float32, Frame: []int{256}, Slots: 3, Mode: ring.Queue})
	p := pyScript(t, `
out = {}
for name, what in ((sys.argv[1], 'array'), (sys.argv[2], 'queue')):
    try:
        ndshm.Ring(name).reader()
    except ValueError as e:
        out[what] = str(e)
print(json.dumps(out))
`, arr.Name(), r.Name())
	var got map[string]string
	if err := p.result(&got); err != nil {
		t.Fatalf("python: %v\n%s", err, p.stderr.String())
	}
	if !strings.Contains(got["array"], "not a ring") || !strings.Contains(got["queue"], "queue") {
		t.Errorf("python refusals: %q", got)
	}
	seqs, _ := goReaders(t, r, 2, 0, func() *pyProc {
		return pyHelper(t, nil, "ring-send", r.Name(), "--frames", "300", "--timeout", "10s")
	})
	all := slices.Sorted(slices.Values(slices.Concat(seqs...)))
	if !pySeq(all, 300) {
		t.Fatalf("queue readers got %d frames between them: %v", len(all), all)
	}
}

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
// writer under Backpressure: its place and frame are reclaimed within a few
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
