package pool

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

func TestTaskRoundTrip(t *testing.T) {
	in := task{seq: 7, src: 3, dst: 9, lo: 750, hi: 1000, op: "histogram", n: 3,
		params: [4]float64{10, -1.5, math.Inf(1), 0}}
	b := in.encode()
	out, err := decodeTask(b[:])
	if err != nil || out != in {
		t.Fatalf("got %+v, %v; want %+v", out, err, in)
	}
	// The documented layout: Python's struct '<BBBBIIIqq4d32s'.
	if b[0] != 1 || b[1] != 'T' || b[2] != 3 || b[3] != 9 || le.Uint32(b[4:]) != 7 ||
		le.Uint64(b[16:]) != 750 || math.Float64frombits(le.Uint64(b[40:])) != -1.5 || string(b[64:73]) != "histogram" {
		t.Errorf("layout: % x", b)
	}
}

func TestResultRoundTrip(t *testing.T) {
	for _, in := range []result{
		{seq: 1, stats: Stats{Count: 5, Sum: 2.5, Min: -1, Max: math.NaN(), Elapsed: 1234}},
		{seq: 2, stats: Stats{Count: 3, Hist: []uint64{1, 0, 2}, Min: math.Inf(1), Max: math.Inf(-1)}},
		{seq: 3, err: "op sqrt: no"},
	} {
		b := in.encode()
		out, err := decodeResult(b)
		if err != nil || !bytes.Equal(out.encode(), b) {
			t.Errorf("%+v: got %+v, %v", in, out, err)
		}
	}
	long := result{err: strings.Repeat("é", maxErrText)} // cut at a rune boundary
	if out, err := decodeResult(long.encode()); err != nil || len(out.err) > maxErrText || !utf8.ValidString(out.err) {
		t.Errorf("long error: %d bytes, %v", len(out.err), err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := (&result{seq: 1, stats: Stats{Hist: []uint64{1, 2}}}).encode()
	bad := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":         {},
		"version":       bad(func(b []byte) []byte { b[0] = 2; return b }),
		"type":          bad(func(b []byte) []byte { b[1] = 'T'; return b }),
		"short":         good[:40],
		"long":          append(bytes.Clone(good), 0),
		"status":        bad(func(b []byte) []byte { b[2] = 2; return b }),
		"reserved":      bad(func(b []byte) []byte { b[60] = 1; return b }),
		"bins":          bad(func(b []byte) []byte { le.PutUint32(b[48:], 3); return b }),
		"error no text": bad(func(b []byte) []byte { b[2] = 1; return b }),
		"text no error": bad(func(b []byte) []byte { le.PutUint32(b[48:], 1); le.PutUint32(b[52:], 8); return b }),
		"count":         bad(func(b []byte) []byte { le.PutUint64(b[8:], math.MaxUint64); return b }),
		"elapsed":       bad(func(b []byte) []byte { le.PutUint64(b[40:], math.MaxUint64); return b }),
	} {
		if _, err := decodeResult(b); !errors.Is(err, errFrame) {
			t.Errorf("%s: %v", name, err)
		}
	}
	task := (&task{op: "sqrt"}).encode()
	task[70] = 'x' // padding must be zero
	if _, err := decodeTask(task[:]); !errors.Is(err, errFrame) {
		t.Errorf("unpadded op name: %v", err)
	}
}

// Whatever a worker sends, decoding never panics, and what decodes
// encodes back to the same bytes: nothing is silently reinterpreted.
func FuzzDecodeResult(f *testing.F) {
	f.Add((&result{seq: 1, stats: Stats{Count: 5, Hist: []uint64{1}}}).encode())
	f.Add((&result{seq: 2, err: "no"}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeResult(b)
		if err == nil && utf8.Valid(b[min(len(b), resultHead+8*len(r.stats.Hist)):]) && !bytes.Equal(r.encode(), b) {
			t.Errorf("% x decodes to %+v, which encodes to % x", b, r, r.encode())
		}
	})
}

// A raw attach frame carries the array's spec in the documented layout
// (Python's struct '<BBHIBBBBI', the shape as '<q's, the dtype, the
// name), and the decoder refuses every field outside the protocol's
// limits.
func TestAttachRawFrame(t *testing.T) {
	s := ndshm.Spec{DType: ndshm.Int16, Shape: []int{3, 0, 7}, Fortran: true}
	b, err := encodeAttachRaw(9, "psm_1", s)
	if err != nil {
		t.Fatal(err)
	}
	if b[1] != 'B' || le.Uint16(b[2:]) != 5 || le.Uint32(b[4:]) != 9 || b[8] != 3 || b[9] != 3 || b[10] != 1 ||
		le.Uint64(b[16:]) != 3 || le.Uint64(b[32:]) != 7 || string(b[40:]) != "<i2psm_1" {
		t.Errorf("layout: % x", b)
	}
	id, name, out, err := decodeAttachRaw(b)
	if err != nil || id != 9 || name != "psm_1" || !out.DType.Equal(s.DType) || !slices.Equal(out.Shape, s.Shape) || !out.Fortran {
		t.Fatalf("round trip: %d %q %v %v", id, name, out, err)
	}
	forge := func(f func([]byte) []byte) []byte { return f(slices.Clone(b)) }
	for what, bad := range map[string][]byte{
		"id 0":          forge(func(x []byte) []byte { le.PutUint32(x[4:], 0); return x }),
		"33 dimensions": forge(func(x []byte) []byte { x[9] = 33; return x }),
		"empty dtype":   forge(func(x []byte) []byte { x[8] = 0; return x }),
		"17-byte dtype": forge(func(x []byte) []byte { x[8] = 17; return x }),
		"order 2":       forge(func(x []byte) []byte { x[10] = 2; return x }),
		"reserved":      forge(func(x []byte) []byte { x[13] = 1; return x }),
		"negative dim":  forge(func(x []byte) []byte { le.PutUint64(x[16:], 1<<63); return x }),
		"bad dtype":     forge(func(x []byte) []byte { copy(x[40:], "<x2"); return x }),
		"name too long": forge(func(x []byte) []byte { le.PutUint16(x[2:], 6); return x }),
		"cut short":     b[:len(b)-1],
		"version 2":     forge(func(x []byte) []byte { x[0] = 2; return x }),
		"only the head": b[:rawHead],
		"way too long":  append(slices.Clone(b), make([]byte, 600)...),
	} {
		if _, _, _, err := decodeAttachRaw(bad); !errors.Is(err, errFrame) {
			t.Errorf("%s: decoded (%v)", what, err)
		}
	}
	if _, err := encodeAttachRaw(1, "x", ndshm.Spec{DType: ndshm.Float64, Shape: make([]int, 33)}); err == nil {
		t.Error("encoded 33 dimensions")
	}
}

// FuzzAttachRaw: whatever the frame, decoding never panics, and what
// decodes encodes to a frame that decodes the same (dtypes are
// normalized: "<b1" comes back "|b1").
func FuzzAttachRaw(f *testing.F) {
	b, _ := encodeAttachRaw(1, "psm", ndshm.Spec{DType: ndshm.Float32, Shape: []int{4, 4}})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		id, name, s, err := decodeAttachRaw(b)
		if err != nil {
			return
		}
		again, err := encodeAttachRaw(id, name, s)
		if err != nil {
			t.Fatalf("% x decodes to %d %q %v, which does not encode: %v", b, id, name, s, err)
		}
		id2, name2, s2, err := decodeAttachRaw(again)
		if err != nil || id2 != id || name2 != name || !s2.DType.Equal(s.DType) || !slices.Equal(s2.Shape, s.Shape) || s2.Fortran != s.Fortran {
			t.Errorf("% x decodes to %d %q %v, which encodes to % x, which decodes to %d %q %v (%v)", b, id, name, s, again, id2, name2, s2, err)
		}
	})
}

// A partition outside its array is refused before anything is written:
// by the parent's proof, and by a worker, should one ever be sent it.
func TestPartitionOutsideArray(t *testing.T) {
	p, b, c := prepared(t, false, "fill=5")
	for _, bad := range []part{{5, 15}, {-1, 3}, {6, 4}, {10, 11}} {
		if err := checkParts([]part{bad}, 10); !errors.Is(err, errRange) {
			t.Errorf("checkParts accepted %v", bad)
		}
		pr, err := p.live(0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = pr.run(context.Background(), c, bad, 0)
		if err == nil || !strings.Contains(err.Error(), "partition outside the array") || pr.broken {
			t.Errorf("worker ran %v: %v", bad, err)
		}
	}
	for i, x := range b.Bytes() {
		if x != 0 {
			t.Fatalf("byte %d was written", i)
		}
	}
}

// A worker distrusts its pool too: a frame it cannot read ends it, with
// exit status 1 and the reason on standard error.
func TestWorkerRefusesGarbage(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, frame := range [][]byte{
		[]byte("garbage"),
		{version, typeTask, 9, 4}, // short
		encodeAttach(1, "no descriptor"),
	} {
		pr, err := p.live(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := pr.send(frame, nil); err != nil {
			t.Fatal(err)
		}
		if !pr.waitExit(5*time.Second) || exitText(pr) != "exit status 1" {
			t.Errorf("after % x the worker is %s", frame, exitText(pr))
		}
		pr.broken = true // p.live replaces it
	}
}

// A task frame whose fields break the protocol's limits gets an error
// result, naming what is wrong, and the worker serves on; it never
// panics or allocates what a field claims.
func TestWorkerAnswersForgedTasks(t *testing.T) {
	p, b, c := prepared(t, true, "sum")
	pr, err := p.live(0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := pr.attach(c.srcRef)
	if err != nil {
		t.Fatal(err)
	}
	pid := pr.pid
	for _, tc := range []struct {
		what string
		t    task
		edit func(f []byte)
		want string
	}{
		{"5000 bins", task{op: "histogram", n: 3, params: [4]float64{5000, 0, 1}, hi: 10}, nil, "bins must be a whole number from 1 to 4096"},
		{"1e18 bins", task{op: "histogram", n: 3, params: [4]float64{1e18, 0, 1}, hi: 10}, nil, "bins must be"},
		{"rows outside", task{op: "sum", lo: 5, hi: 1 << 40}, nil, "partition outside the array"},
		{"negative rows", task{op: "sum", lo: -3, hi: 2}, nil, "partition outside the array"},
		{"unknown op", task{op: "nosuchop", hi: 10}, nil, `unknown op "nosuchop"`},
		{"unknown block", task{op: "sum", hi: 10}, func(f []byte) { le.PutUint32(f[8:], 999) }, "no block with id 999"},
		{"source is destination", task{op: "fill", n: 1, hi: 10}, func(f []byte) { le.PutUint32(f[12:], id) }, "as its source and destination"},
		{"9 params", task{op: "sum", hi: 10}, func(f []byte) { f[2] = 9 }, "task with 9 params"},
		{"no op name", task{op: "sum", hi: 10}, func(f []byte) { f[3] = 0 }, "0-byte op name"},
		{"33-byte op name", task{op: "sum", hi: 10}, func(f []byte) { f[3] = 33 }, "33-byte op name"},
		{"unused param", task{op: "sum", hi: 10}, func(f []byte) { le.PutUint64(f[48:], 1) }, "parameter 3 not zero"},
	} {
		tc.t.seq, tc.t.src = 77, id
		f := tc.t.encode()
		if tc.edit != nil {
			tc.edit(f[:])
		}
		if err := pr.send(f[:], nil); err != nil {
			t.Fatal(err)
		}
		var r result
		err := pr.await(context.Background(), 10*time.Second, func(b []byte) (err error) {
			r, err = decodeResult(b)
			return err
		})
		if err != nil || r.seq != 77 || !strings.Contains(r.err, tc.want) {
			t.Errorf("%s: %v, result %+v; want an error result saying %q", tc.what, err, r, tc.want)
		}
		if pr.broken || pr.hasExited() {
			t.Fatalf("%s: the worker died: %s", tc.what, exitText(pr))
		}
	}
	if pr.pid != pid {
		t.Errorf("worker replaced")
	}
	for i, x := range b.Bytes() {
		if x != 0 {
			t.Fatalf("byte %d was written", i)
		}
	}
}

// The parent checks what a worker says as closely: a hello with
// reserved bytes or another pid, and results a built-in op cannot give.
func TestParentRefusesForgedFrames(t *testing.T) {
	h := encodeHello(1234)
	if pid, err := decodeHello(h[:]); err != nil || pid != 1234 {
		t.Errorf("hello: %d, %v", pid, err)
	}
	for what, b := range map[string][]byte{
		"pid 0":    {version, typeHello, 0, 0, 0, 0, 0, 0},
		"reserved": {version, typeHello, 1, 0, 1, 0, 0, 0},
		"version":  {2, typeHello, 0, 0, 1, 0, 0, 0},
	} {
		if _, err := decodeHello(b); !errors.Is(err, errFrame) {
			t.Errorf("hello with %s: %v", what, err)
		}
	}
	d := encodeDetach(0)
	if _, err := decodeDetach(d[:]); !errors.Is(err, errFrame) {
		t.Errorf("detach of block 0: %v", err)
	}
	hist, _ := lookup("histogram")
	sum, _ := lookup("sum")
	pt := part{0, 4}
	for _, tc := range []struct {
		what string
		c    call
		s    Stats
	}{
		{"bins from sum", call{def: sum, rowLen: 1}, Stats{Count: 4, Hist: []uint64{4}}},
		{"too many binned", call{def: hist, rowLen: 1, params: Params{2, 0, 1}}, Stats{Count: 4, Hist: []uint64{3, 2}}},
		{"wrapping bins", call{def: hist, rowLen: 1, params: Params{2, 0, 1}}, Stats{Count: 4, Hist: []uint64{1 << 63, 1 << 63}}},
		{"wrong bin count", call{def: hist, rowLen: 1, params: Params{2, 0, 1}}, Stats{Count: 4, Hist: []uint64{1}}},
		{"wrong count", call{def: sum, rowLen: 1}, Stats{Count: 5}},
	} {
		if err := tc.c.check(tc.s, pt); err == nil {
			t.Errorf("%s: accepted %+v", tc.what, tc.s)
		}
	}
	ok := call{def: hist, rowLen: 1, params: Params{2, 0, 1}}
	if err := ok.check(Stats{Count: 4, Hist: []uint64{1, 2}}, pt); err != nil {
		t.Errorf("a good histogram: %v", err)
	}
}

// prepared makes a one-worker pool and a float64 block of 10 elements,
// both closed when t ends, and prepares op on the block as a reduction
// (reduce) or a map.
func prepared(t *testing.T, reduce bool, op string) (*Pool, *ndshm.Block, *call) {
	t.Helper()
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	p.mu.Lock()
	c, err := p.prepare(reduce, b, nil, op)
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return p, b, c
}
