package ndshm_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/pool"
	"github.com/ndshm/ndshm/ring"
)

// docKeys returns the keys docs/JSON.md's table gives for command, in
// order: the quoted names on its row.
func docKeys(t *testing.T, command string) []string {
	t.Helper()
	doc, err := os.ReadFile("docs/JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(line, "| `"+command+"` |"); ok {
			var keys []string
			for _, m := range regexp.MustCompile(`"([a-z0-9_]+)"`).FindAllStringSubmatch(rest, -1) {
				keys = append(keys, m[1])
			}
			return keys
		}
	}
	t.Fatalf("docs/JSON.md has no row for %s", command)
	return nil
}

// pyCLI runs `python3 -m ndshm args...` and returns its standard output.
func pyCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := shmtest.PythonCommand(t, append([]string{"-m", "ndshm"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3 -m ndshm %q: %v", args, err)
	}
	return out
}

// `python3 -m ndshm stats` prints what `ndshm stats --json` prints: the
// keys of docs/JSON.md, and the values of the pool's "mean" reduction
// (Go's stats), NaN and ±Inf as null.
func TestPythonStatsJSON(t *testing.T) {
	want := docKeys(t, "stats NAME")
	for _, tc := range []struct {
		dt    ndshm.DType
		shape []int
		bits  []uint16 // the elements in memory order; nil: zeros
	}{
		{ndshm.Float64, []int{2, 3}, nil},
		{ndshm.Int32, []int{3, 2}, []uint16{1, 0xffff, 7, 3, 0, 9}},
		{ndshm.Uint8, []int{0, 4}, nil},
		{ndshm.Bool, []int{5}, []uint16{1, 0, 1, 1, 0}},
		{ndshm.Float16, []int{4}, []uint16{0x3c00, 0xc000, 0x0001, 0x7bff}},
		{ndshm.Float16, []int{3}, []uint16{0x3c00, 0x7e00, 0}}, // NaN
		{ndshm.Float16, []int{2}, []uint16{0x7c00, 0x3c00}},    // +Inf
	} {
		b := tBlock(t, ndshm.Spec{DType: tc.dt, Shape: tc.shape})
		for i, x := range tc.bits {
			switch tc.dt.Size() {
			case 1:
				b.Bytes()[i] = byte(x)
			case 2:
				binary.NativeEndian.PutUint16(b.Bytes()[2*i:], x)
			default:
				binary.NativeEndian.PutUint32(b.Bytes()[4*i:], uint32(int32(int16(x))))
			}
		}
		out := pyCLI(t, "stats", b.Name(), "--json")
		if got := jsonKeys(t, out); !slices.Equal(got, want) {
			t.Errorf("%s stats keys %q, want %q (docs/JSON.md)", tc.dt, got, want)
		}
		s, err := pool.Serial().Reduce(context.Background(), b, "mean")
		if err != nil {
			t.Fatal(err)
		}
		null := func(x float64) any {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil
			}
			return x
		}
		wantVals := map[string]any{"name": b.Name(), "dtype": tc.dt.String(), "count": float64(s.Count),
			"sum": null(s.Sum), "min": null(s.Min), "max": null(s.Max), "mean": null(s.Mean())}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range wantVals {
			if got[k] != v {
				t.Errorf("%s%v stats %s: %v, want %v", tc.dt, tc.shape, k, got[k], v)
			}
		}
	}
}

// Python's ring-send and ring-recv print the reports of `ndshm ring send
// --json` and `ndshm ring recv --json`: docs/JSON.md's keys (recv's are
// stream.Report's, what Go prints), bytes_per_s in bytes a second.
func TestPythonRingReportsJSON(t *testing.T) {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Uint16, Frame: []int{8, 8}, Slots: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recv := shmtest.PythonCommand(t, "-m", "ndshm", "ring-recv", r.Name(), "--verify", "--timeout", "10s")
	var recvOut bytes.Buffer
	recv.Stdout, recv.Stderr = &recvOut, os.Stderr
	if err := recv.Start(); err != nil {
		t.Fatal(err)
	}
	defer recv.Process.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, 1); err != nil {
		t.Fatal(err)
	}
	const n = 20
	sendOut := pyCLI(t, "ring-send", r.Name(), "--frames", "20", "--timeout", "10s")
	if err := recv.Wait(); err != nil {
		t.Fatalf("ring-recv: %v", err)
	}
	goRecv, err := json.Marshal(stream.Report{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what string
		out  []byte
		want [][]string
	}{
		{"ring-send", sendOut, [][]string{docKeys(t, "ring send NAME")}},
		{"ring-recv", recvOut.Bytes(), [][]string{docKeys(t, "ring recv NAME"), jsonKeys(t, goRecv)}},
	} {
		for _, want := range tc.want {
			if got := jsonKeys(t, tc.out); !slices.Equal(got, want) {
				t.Errorf("%s keys %q, want %q", tc.what, got, want)
			}
		}
	}
	var sent map[string]float64
	var got stream.Report
	if err := json.Unmarshal(sendOut, &sent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(recvOut.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if sent["frames"] != n || sent["frame_bytes"] != 128 || sent["fps"] <= 0 ||
		math.Abs(sent["bytes_per_s"]-128*sent["fps"]) > 1e-9*sent["bytes_per_s"] {
		t.Errorf("ring-send reports %v: want %d frames of 128 bytes, bytes_per_s = 128·fps", sent, n)
	}
	if got.Frames != n || got.Lost != 0 || got.Dup != 0 || got.Torn != 0 || got.P50 > got.P99 {
		t.Errorf("ring-recv reports %+v", got)
	}
}

// Python's Ring.stat() is the ring's Stat as `ndshm ring stat --json`
// prints it: the same keys in the same order, and the same values.
func TestPythonRingStatJSON(t *testing.T) {
	r, err := ring.Create(shmtest.Name(), ring.Config{DType: ndshm.Float32, Frame: []int{3}, Slots: 2, Policy: ring.Overwrite})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := w.Loan(context.Background()); err != nil {
			t.Fatal(err)
		}
		w.Publish(uint64(i))
	}
	defer w.Close() // a live writer: writer_pid is printed
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	want, err := json.Marshal(r.Stat())
	if err != nil {
		t.Fatal(err)
	}
	var got json.RawMessage
	python(t, &got, `print(json.dumps(ndshm.Ring(sys.argv[1]).stat()))`, r.Name())
	sameBlockJSON(t, "Ring.stat()", got, want, true)
}
