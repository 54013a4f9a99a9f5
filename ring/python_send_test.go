package ring_test

import (
	"context"
	"io"
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
// the stream: under Block every frame in order, under Overwrite (a slow
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
		{"u1", ndshm.Uint8, ring.Block, 300, 0, nil},
		{"f4/overwrite", ndshm.Float32, ring.Overwrite, 300, 200 * time.Microsecond, nil},
		{"u1/poll", ndshm.Uint8, ring.Block, 100, 0, []string{"NDSHM_FUTEX=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := pyRing(t, ring.Config{DType: tc.dt, Frame: []int{64, 64}, Slots: 3, Policy: tc.pol})
			seqs, missed := goReaders(t, r, 1, tc.delay, func() *pyProc {
				return pyHelper(t, tc.env, "ring-send", r.Name(), "--frames", strconv.Itoa(tc.n), "--timeout", "10s")
			})
			got := seqs[0]
			if len(got) == 0 || got[len(got)-1] != uint64(tc.n-1) || len(got)+int(missed[0]) != tc.n ||
				tc.pol == ring.Block && len(got) != tc.n {
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
