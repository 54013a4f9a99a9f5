package ring_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
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
