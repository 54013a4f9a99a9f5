package pool

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
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
