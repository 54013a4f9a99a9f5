package pool

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
)

// A partition outside its array is refused before anything is written:
// by the parent's proof, and by a worker, should one ever be sent it.
func TestPartitionOutsideArray(t *testing.T) {
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p.mu.Lock()
	c, err := p.prepare(false, b, nil, "fill=5")
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
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
	p, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	b, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{10}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	p.mu.Lock()
	c, err := p.prepare(true, b, nil, "sum")
	p.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
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
