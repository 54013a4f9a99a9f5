package main

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
)

// values returns the float64 elements of the block name in memory order.
func values(t *testing.T, name string) []float64 {
	t.Helper()
	b, err := ndshm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a, err := ndshm.View[float64](b)
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := a.Flat()
	return slices.Clone(xs)
}

func TestMapCommand(t *testing.T) {
	name, out := newName(t), newName(t)
	s := ndshm.Spec{DType: ndshm.Float64, Shape: []int{100, 3}, Fortran: true}
	in := makeBlock(t, name, s, func(i int) float64 { return float64(i * i) })
	if got := mustRun(t, "map", name, "--op", "sqrt", "--workers", "3"); got != "" {
		t.Errorf("map printed %q", got)
	}
	mustRun(t, "map", "/dev/shm/"+name, "--op", "affine=2,1", "--out", out, "--workers", "2")
	src, dst := values(t, name), values(t, out)
	for i := range in {
		if src[i] != float64(i) || dst[i] != 2*float64(i)+1 {
			t.Fatalf("element %d: %v then %v, want %v then %v", i, src[i], dst[i], i, 2*i+1)
		}
	}
	// --out makes a new block: it never overwrites one.
	if _, _, err := ndshmRun(t, "map", name, "--op", "sqrt", "--out", out); err == nil || isUsage(err) {
		t.Errorf("map onto an existing --out: %v", err)
	}
}

// A map whose stderr is not a terminal draws no progress bar there, and
// splits the rows as always: the results are the same either way.
func TestMapProgressQuiet(t *testing.T) {
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4000, 8}}, func(i int) float64 { return float64(i) })
	for _, args := range [][]string{{"--workers", "2"}, {"--workers", "2", "--json"}} {
		_, errOut, err := ndshmRun(t, append([]string{"map", name, "--op", "scale=2"}, args...)...)
		if err != nil || errOut != "" {
			t.Errorf("map %q: %v, stderr %q; want nothing there", args, err, errOut)
		}
	}
	for i, x := range values(t, name) {
		if x != 4*float64(i) {
			t.Fatalf("element %d: %v, want %v", i, x, 4*i)
		}
	}
}

func TestReduceCommand(t *testing.T) {
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Int32, Shape: []int{10, 10}}, func(i int) int32 { return int32(i) })
	for op, want := range map[string]string{
		"sum": "4950\n", "min": "0\n", "max": "99\n", "mean": "49.5\n", "count": "100\n",
	} {
		if got := mustRun(t, "reduce", name, "--op", op, "--workers", "2"); got != want {
			t.Errorf("reduce --op %s printed %q, want %q", op, got, want)
		}
	}
	got := decodeJSON[reduceJSON](t, mustRun(t, "reduce", name, "--op", "mean", "--json"))
	if got.Name != name || got.DType != "<i4" || got.Op != "mean" || got.Count != 100 || got.Value == nil || *got.Value != 49.5 {
		t.Errorf("reduce --json: %+v", got)
	}
	h := decodeJSON[reduceJSON](t, mustRun(t, "reduce", name, "--op", "histogram=4,0,100", "--json"))
	if !slices.Equal(h.Bins, []uint64{25, 25, 25, 25}) || !slices.Equal(h.Edges, []jsonFloat{0, 25, 50, 75, 100}) || h.Value != nil {
		t.Errorf("histogram: %+v", h)
	}
	// The last bin is closed, as in NumPy: 50 is in it.
	want := "  from  to  count\n     0  25     25\n    25  50     26\n"
	if got := mustRun(t, "reduce", name, "--op", "histogram=2,0,50"); got != want {
		t.Errorf("histogram table:\n%s\nwant:\n%s", got, want)
	}
}

func TestReduceEmpty(t *testing.T) {
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{0, 4}}, func(int) float64 { return 0 })
	out := mustRun(t, "reduce", name, "--op", "min", "--json")
	if got := decodeJSON[reduceJSON](t, out); got.Count != 0 || !strings.Contains(out, `"value": null`) {
		t.Errorf("min of nothing: %s", out) // NaN, which JSON spells null
	}
	if out := mustRun(t, "reduce", name, "--op", "max"); out != "NaN\n" {
		t.Errorf("max of nothing: %q", out)
	}
	if out := mustRun(t, "reduce", name, "--op", "sum"); out != "0\n" {
		t.Errorf("sum of nothing: %q", out)
	}
}

func TestMapUsageErrors(t *testing.T) {
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Int32, Shape: []int{4}}, func(i int) int32 { return int32(i) })
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"map", name}, "--op is required"},
		{[]string{"map", "--op", "sqrt"}, "missing NAME"},
		{[]string{"map", name, "--op", "affine=1,"}, "is not a number"},
		{[]string{"map", name, "--op", "sqr"}, `unknown op "sqr"`},
		{[]string{"map", name, "--op", "scale=0.5"}, "not a whole number"},
		{[]string{"map", name, "--op", "sum"}, "is a reduction"},
		{[]string{"reduce", name, "--op", "fill=1"}, "writes the array"},
		{[]string{"reduce", name, "--op", "histogram=2,1,0"}, "lo < hi"},
		{[]string{"map", name, "--op", "sqrt", "--workers", "-1"}, "--workers"},
	} {
		_, _, err := ndshmRun(t, tc.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ndshm %v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
	if _, _, err := ndshmRun(t, "map", name+"-missing", "--op", "sqrt"); err == nil || isUsage(err) {
		t.Errorf("map of a missing block: %v", err)
	}
	for _, cmd := range []string{"map", "reduce"} {
		if out := mustRun(t, cmd, "-h"); !strings.HasPrefix(out, "usage: ndshm "+cmd) {
			t.Errorf("%s -h: %q", cmd, out)
		}
	}
}

// TestWorkersCapped: --workers is capped at one worker per row and at
// maxWorkersPerCPU per CPU, and the commands say so on stderr.
func TestWorkersCapped(t *testing.T) {
	cpus := runtime.GOMAXPROCS(0)
	for _, tc := range []struct{ asked, rows, want int }{
		{0, 1000, runtime.NumCPU()},
		{2, 1000, 2},
		{200, 4, 4},
		{1000, 1000, maxWorkersPerCPU * cpus},
		{3, 0, 1},
	} {
		if n, why := workerCount(tc.asked, tc.rows); n != min(tc.want, max(tc.rows, 1)) || (n != tc.asked) != (why != "") && tc.asked > 0 {
			t.Errorf("workerCount(%d, %d) = %d, %q; want %d", tc.asked, tc.rows, n, why, tc.want)
		}
	}
	name := newName(t)
	makeBlock(t, name, ndshm.Spec{DType: ndshm.Float64, Shape: []int{4, 2}}, func(i int) float64 { return float64(i) })
	out, errOut, err := ndshmRun(t, "reduce", name, "--op", "sum", "--workers", "200")
	if err != nil || out != "28\n" || !strings.Contains(errOut, "4 worker processes, not 200: the array has 4 rows") {
		t.Errorf("reduce --workers 200 on 4 rows: %v, stdout %q, stderr %q", err, out, errOut)
	}
	_, errOut, err = ndshmRun(t, "stats", name, "--workers", "200")
	if err != nil || !strings.Contains(errOut, "not 200") {
		t.Errorf("stats --workers 200 on 4 rows: %v, stderr %q", err, errOut)
	}
}

// TestOpWrongDType: an op that does not run on the block's dtype is a
// failure that names the block, the op and the dtype, and says what the
// op runs on, not an unknown op with a usage (exit 2); and it starts no
// workers.
func TestOpWrongDType(t *testing.T) {
	name := newName(t)
	mustRun(t, "create", name, "--dtype", "c16", "--shape", "4")
	for _, args := range [][]string{
		{"reduce", name, "--op", "sum"},
		{"map", name, "--op", "sqrt"},
		{"stats", name, "--workers", "2"},
	} {
		_, _, err := ndshmRun(t, args...)
		want := args[0] + " " + name + ": "
		if err == nil || isUsage(err) || !errors.Is(err, ndshm.ErrDType) || !strings.HasPrefix(err.Error(), want) ||
			!strings.Contains(err.Error(), "does not apply to dtype <c16: it runs on ") || !strings.Contains(err.Error(), "f4, f8") {
			t.Errorf("ndshm %q: %v, want a failure starting %q that names the dtype", args, err, want)
		}
	}
	if _, _, err := ndshmRun(t, "reduce", name, "--op", "bogus"); !isUsage(err) || !strings.HasPrefix(err.Error(), "reduce: --op: unknown op") {
		t.Errorf("reduce --op bogus: %v, want a usage error", err)
	}
}

// TestPoolRawBlock: map, reduce and stats --workers read a raw block
// (no ndshm header) as --dtype and --shape describe it, as the README
// promises every command that reads a block does.
func TestPoolRawBlock(t *testing.T) {
	name := newName(t)
	data := make([]byte, 8*12)
	for i := range 12 {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(float64(i)))
	}
	if err := os.WriteFile("/dev/shm/"+name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	raw := []string{"--dtype", "f8", "--shape", "4,3", "--workers", "2"}
	if got := mustRun(t, append([]string{"reduce", name, "--op", "sum"}, raw...)...); got != "66\n" {
		t.Errorf("reduce of a raw block printed %q", got)
	}
	mustRun(t, append([]string{"map", name, "--op", "affine=2,1"}, raw...)...)
	if got := mustRun(t, append([]string{"stats", name}, raw...)...); got != "count 12  sum 144  min 1  max 23  mean 12\n" {
		t.Errorf("stats --workers of a raw block after map printed %q", got)
	}
	out := newName(t)
	mustRun(t, append([]string{"map", name, "--op", "scale=2", "--out", out}, raw...)...)
	for i, x := range values(t, out) {
		if x != 4*float64(i)+2 {
			t.Fatalf("map --out of a raw block: element %d is %v", i, x)
		}
	}
}
