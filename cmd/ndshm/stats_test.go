package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/elem"
)

// statsOut is stats --json's object as a test reads it: null is nil.
type statsOut struct {
	Name, DType         string
	Count               int
	Sum, Min, Max, Mean *float64
}

// naive is the reference: a plain loop over the values, with NaN
// handled as NumPy does, spelled out rather than through min and max.
func naive(xs []float64) (sum, lo, hi, mean float64) {
	lo, hi = math.NaN(), math.NaN()
	nan := false
	for i, x := range xs {
		sum += x
		switch {
		case math.IsNaN(x):
			nan = true
		case i == 0 || x < lo:
			lo = x
		}
		if !math.IsNaN(x) && (i == 0 || x > hi) {
			hi = x
		}
	}
	if nan {
		lo, hi = math.NaN(), math.NaN()
	}
	return sum, lo, hi, sum / float64(len(xs))
}

// statsCase fills a block of some dtype and returns its values as float64.
type statsCase struct {
	dtype string
	fill  func(t *testing.T, name string) []float64
}

// filled is a statsCase whose element i is f(i), of Go type T.
func filled[T any](dt ndshm.DType, shape []int, f func(i int) T, value func(T) float64) statsCase {
	return statsCase{dt.String(), func(t *testing.T, name string) []float64 {
		var vs []float64
		for _, x := range makeBlock(t, name, ndshm.Spec{DType: dt, Shape: shape}, f) {
			vs = append(vs, value(x))
		}
		return vs
	}}
}

func num[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](x T) float64 {
	return float64(x)
}

func TestStats(t *testing.T) {
	shape := []int{7, 11}
	for _, tc := range []statsCase{
		filled(ndshm.Bool, shape, func(i int) bool { return i%3 == 0 }, func(b bool) float64 { return map[bool]float64{true: 1}[b] }),
		filled(ndshm.Int8, shape, func(i int) int8 { return int8(i*37 - 100) }, num),
		filled(ndshm.Int16, shape, func(i int) int16 { return int16(i*1000 - 30000) }, num),
		filled(ndshm.Int32, shape, func(i int) int32 { return int32(i*i*1e5 - 1e8) }, num),
		filled(ndshm.Int64, shape, func(i int) int64 { return int64(i-40) * 1e17 }, num),
		filled(ndshm.Uint8, shape, func(i int) uint8 { return uint8(i * 7) }, num),
		filled(ndshm.Uint16, shape, func(i int) uint16 { return uint16(i * 997) }, num),
		filled(ndshm.Uint32, shape, func(i int) uint32 { return uint32(i) * 55555555 }, num),
		filled(ndshm.Uint64, shape, func(i int) uint64 { return uint64(i) * 1e17 }, num),
		filled(ndshm.Float16, shape, func(i int) uint16 { return elem.HalfFromFloat(float64(i)/3 - 10) }, elem.HalfToFloat),
		filled(ndshm.Float32, shape, func(i int) float32 { return float32(math.Sin(float64(i))) }, num),
		filled(ndshm.Float64, shape, func(i int) float64 { return math.Exp(float64(i)/10) - 50 }, num),
		filled(ndshm.Float64, []int{}, func(int) float64 { return -2.5 }, num),
		filled(ndshm.Float64, shape, func(i int) float64 { return []float64{1, math.Inf(1), -3}[i%3] }, num),
		filled(ndshm.Float32, shape, func(i int) float32 { return []float32{1, float32(math.NaN()), -3}[i%3] }, num),
		filled(ndshm.Int32, []int{0, 4}, func(int) int32 { return 0 }, num),
	} {
		name := newName(t)
		vs := tc.fill(t, name)
		got := decodeJSON[statsOut](t, mustRun(t, "stats", name, "--json"))
		sum, lo, hi, mean := naive(vs)
		if got.Name != name || got.DType != tc.dtype || got.Count != len(vs) ||
			!same(got.Sum, sum) || !same(got.Min, lo) || !same(got.Max, hi) || !same(got.Mean, mean) {
			t.Errorf("stats of %s%v: %s, want count %d sum %v min %v max %v mean %v",
				tc.dtype, len(vs), show(got), len(vs), sum, lo, hi, mean)
		}
		par := decodeJSON[statsOut](t, mustRun(t, "stats", name, "--json", "--workers", "2"))
		if par.Count != len(vs) || !same(par.Min, lo) || !same(par.Max, hi) || !near(par.Sum, sum) || !near(par.Mean, mean) {
			t.Errorf("stats --workers 2 of %s%v: %s, want count %d sum %v min %v max %v",
				tc.dtype, len(vs), show(par), len(vs), sum, lo, hi)
		}
		human := mustRun(t, "stats", name)
		want := fmt.Sprintf("count %d  sum %v  min %v  max %v  mean %v\n", len(vs), sum, lo, hi, mean)
		if human != want {
			t.Errorf("stats of %s: %q, want %q", tc.dtype, human, want)
		}
	}
}

// same reports whether JSON's value is x, with null for NaN and ±Inf.
func same(p *float64, x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return p == nil
	}
	return p != nil && *p == x
}

// near is same with room for a different order of float64 additions.
func near(p *float64, x float64) bool {
	if p == nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return same(p, x)
	}
	return math.Abs(*p-x) <= 1e-12*math.Max(1, math.Abs(x))
}

func show(s statsOut) string {
	f := func(p *float64) string {
		if p == nil {
			return "null"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("count %d sum %s min %s max %s mean %s", s.Count, f(s.Sum), f(s.Min), f(s.Max), f(s.Mean))
}

func TestStatsRaw(t *testing.T) {
	name := newName(t)
	data := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99} // the last byte is beyond the array
	if err := os.WriteFile("/dev/shm/"+name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, "stats", name, "--dtype", "u1", "--shape", "3,4", "--order", "F"); got != "count 12  sum 66  min 0  max 11  mean 5.5\n" {
		t.Errorf("stats of a raw block: %q", got)
	}
}

func TestStatsErrors(t *testing.T) {
	for _, dtype := range []string{"c16", ">f8", ">i2", "M8[ns]", "S4", "V8"} {
		name := newName(t)
		mustRun(t, "create", name, "--dtype", dtype, "--shape", "3")
		_, _, err := ndshmRun(t, "stats", name)
		dt, _ := ndshm.ParseDType(dtype)
		if err == nil || isUsage(err) || !strings.Contains(err.Error(), "dtype "+dt.String()) {
			t.Errorf("stats of %s: %v, want an error naming the dtype", dtype, err)
		}
	}
	// A bool block holding a byte other than 0 or 1 is refused, not
	// summed as if it were a count.
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Bool, Shape: []int{3}}, func(i int) uint8 { return uint8(i) })
	if _, _, err := ndshmRun(t, "stats", name); err == nil {
		t.Error("stats of a bool block holding 2: no error")
	}
}

// TestStatsTruncated truncates a block under its mapping: reading it
// faults, which must be an error, not a crash.
func TestStatsTruncated(t *testing.T) {
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{1 << 16}}, func(i int) float64 { return 1 })
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := os.Truncate("/dev/shm/"+name, 0); err != nil {
		t.Fatal(err)
	}
	if s, err := blockStats(context.Background(), nil, b, 0); err == nil || !strings.Contains(err.Error(), "fault") {
		t.Errorf("stats of a truncated block: %+v, %v", s, err)
	}
}

// TestStatsChunks: in this process stats reads a large array a partition
// of about serialChunk elements at a time, stopping at once when ctx is
// done; the partitions add up to the whole, rows of any length alike.
func TestStatsChunks(t *testing.T) {
	for _, shape := range [][]int{{2*serialChunk + 5}, {5, serialChunk/2 + 3}, {1, 3 * serialChunk}} {
		name := newName(t)
		xs := makeBlock(t, name, ndshm.Spec{DType: ndshm.Int16, Shape: shape}, func(i int) int16 { return int16(i) })
		b, err := ndshm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		var vs []float64
		for _, x := range xs {
			vs = append(vs, float64(x))
		}
		sum, lo, hi, _ := naive(vs)
		s, err := blockStats(context.Background(), nil, b, 0)
		if err != nil || s.Count != int64(len(xs)) || s.Sum != sum || s.Min != lo || s.Max != hi {
			t.Errorf("stats of %v: %+v, %v; want sum %v min %v max %v", shape, s, err, sum, lo, hi)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := blockStats(ctx, nil, b, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("stats of %v with a cancelled context: %v", shape, err)
		}
	}
}

// numpyStats is NumPy's count, sum, min, max and mean of the array in
// data, of dtype descr, as stats computes them: in float64 (np.sum and
// np.mean with dtype=float64; float16 would otherwise sum in float16).
const numpyStats = `
import sys, numpy as np
a = np.frombuffer(sys.stdin.buffer.read(), dtype=sys.argv[1])
f = lambda x: float(x).hex()
print(a.size, f(np.sum(a, dtype=np.float64)), f(np.min(a)), f(np.max(a)), f(np.mean(a, dtype=np.float64)))
`

// numpyRef runs numpyStats over the block's data with /usr/bin/python3.
func numpyRef(t *testing.T, name string) []float64 {
	t.Helper()
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cmd := exec.Command("/usr/bin/python3", "-c", numpyStats, b.DType().String())
	cmd.Stdin = bytes.NewReader(b.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("numpy: %v", err)
	}
	return parseFloats(t, strings.Fields(string(out)))
}

// statsNumbers reads stats' line "count N  sum S  min A  max B  mean M".
func statsNumbers(t *testing.T, line string) []float64 {
	t.Helper()
	f := strings.Fields(line)
	if len(f) != 10 {
		t.Fatalf("stats printed %q", line)
	}
	return parseFloats(t, []string{f[1], f[3], f[5], f[7], f[9]})
}

func parseFloats(t *testing.T, fields []string) []float64 {
	t.Helper()
	var xs []float64
	for _, s := range fields {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	return xs
}

// TestStatsOneKernel: stats in this process and stats --workers 2 (a
// process pool) run the pool's kernels and print the same numbers for
// every numeric dtype, and those are NumPy's. The values are exact in
// float64 sums whatever the order of additions, so the printed lines
// must be equal, byte for byte.
func TestStatsOneKernel(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("no /usr/bin/python3 for the NumPy reference")
	}
	shape, nan, inf := []int{9, 7}, math.NaN(), math.Inf(1)
	half := func(f func(i int) float64) func(int) uint16 {
		return func(i int) uint16 { return elem.HalfFromFloat(f(i)) }
	}
	for _, tc := range []struct {
		dt    ndshm.DType
		shape []int
		fill  func(t *testing.T, name string, s ndshm.Spec)
	}{
		{ndshm.Bool, shape, filler(func(i int) bool { return i%3 == 0 })},
		{ndshm.Bool, shape, filler(func(i int) bool { return false })},
		{ndshm.Bool, []int{}, filler(func(i int) bool { return true })},
		{ndshm.Int8, shape, filler(func(i int) int8 { return int8(i*7 - 100) })},
		{ndshm.Int16, shape, filler(func(i int) int16 { return int16(i*1000 - 30000) })},
		{ndshm.Int32, shape, filler(func(i int) int32 { return int32(i*i*100000 - 1e8) })},
		{ndshm.Int64, shape, filler(func(i int) int64 { return int64(i-40) << 40 })},
		{ndshm.Uint8, shape, filler(func(i int) uint8 { return uint8(i * 7) })},
		{ndshm.Uint16, shape, filler(func(i int) uint16 { return uint16(i * 997) })},
		{ndshm.Uint32, shape, filler(func(i int) uint32 { return uint32(i) * 55555555 })},
		{ndshm.Uint64, shape, filler(func(i int) uint64 { return uint64(i) << 50 })},
		{ndshm.Float16, shape, filler(half(func(i int) float64 { return float64(i)/4 - 8 }))},
		{ndshm.Float16, []int{3, 5, 4}, filler(half(func(i int) float64 { return float64(i%7) * 1e-5 }))}, // subnormal
		{ndshm.Float16, shape, filler(half(func(i int) float64 { return []float64{1, nan, -3}[i%3] }))},
		{ndshm.Float16, shape, filler(half(func(i int) float64 { return []float64{1, inf, -65504}[i%3] }))},
		{ndshm.Float32, shape, filler(func(i int) float32 { return float32(i)/4 - 7 })},
		{ndshm.Float64, shape, filler(func(i int) float64 { return float64(i)*0.5 - 13 })},
	} {
		name := newName(t)
		tc.fill(t, name, ndshm.Spec{DType: tc.dt, Shape: tc.shape})
		serial := mustRun(t, "stats", name)
		if par := mustRun(t, "stats", name, "--workers", "2"); par != serial {
			t.Errorf("%s%v: stats printed %q, stats --workers 2 %q", tc.dt, tc.shape, serial, par)
		}
		got, want := statsNumbers(t, serial), numpyRef(t, name)
		if !slices.EqualFunc(got, want, func(a, b float64) bool { return a == b || a != a && b != b }) {
			t.Errorf("%s%v: stats printed %q; NumPy's count, sum, min, max, mean: %v", tc.dt, tc.shape, serial, want)
		}
	}
}

// filler returns a function that fills a block with f(i) at flat index i.
func filler[T any](f func(int) T) func(*testing.T, string, ndshm.Spec) {
	return func(t *testing.T, name string, s ndshm.Spec) { makeBlock(t, name, s, f) }
}
