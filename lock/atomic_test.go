package lock_test

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/lock"
)

const (
	bins    = 8 // few, so that the processes collide often
	histLen = 100000
)

// sample is the i'th value a histogram filler with the given seed adds.
func sample(seed, i int) int { return (i*7919 + seed*104729) % 1000 }

// fill adds histLen samples into the sums and counts histograms.
func fill(sums ndshm.Array[float64], counts ndshm.Array[int64], seed int) {
	for i := range histLen {
		v := sample(seed, i)
		lock.AddFloat64(sums.Addr(v%bins), float64(v))
		lock.AddInt64(counts.Addr(v%bins), 1)
	}
}

// histRole SUMS COUNTS SEED: say "ready", wait for a line, then fill the
// named histograms.
func histRole(args []string) int {
	seed, _ := strconv.Atoi(args[2])
	sums, counts, closeAll, err := openHist(args[0], args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "hist:", err)
		return 1
	}
	defer closeAll()
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	fill(sums, counts, seed)
	return 0
}

func openHist(sumsName, countsName string) (ndshm.Array[float64], ndshm.Array[int64], func(), error) {
	sb, err := ndshm.Open(sumsName)
	if err != nil {
		return ndshm.Array[float64]{}, ndshm.Array[int64]{}, nil, err
	}
	cb, err := ndshm.Open(countsName)
	if err != nil {
		sb.Close()
		return ndshm.Array[float64]{}, ndshm.Array[int64]{}, nil, err
	}
	closeAll := func() { sb.Close(); cb.Close() }
	sums, err1 := ndshm.View[float64](sb)
	counts, err2 := ndshm.View[int64](cb)
	if err = err1; err == nil {
		err = err2
	}
	return sums, counts, closeAll, err
}

// Two child processes and the parent fill one shared histogram at once;
// every addition lands.
func TestHistogramAcrossProcesses(t *testing.T) {
	sb, err := ndshm.Create(shmtest.Name(), ndshm.Spec{DType: ndshm.Float64, Shape: []int{bins}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cb := newBlock(t, bins)
	sums, _ := ndshm.View[float64](sb)
	counts, _ := ndshm.View[int64](cb)

	var gos []io.WriteCloser
	var wait []func() error
	for seed := 1; seed <= 2; seed++ {
		cmd := command("hist", sb.Name(), cb.Name(), strconv.Itoa(seed))
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if s, _ := bufio.NewReader(out).ReadString('\n'); s != "ready\n" {
			t.Fatalf("child %d said %q", seed, s)
		}
		gos, wait = append(gos, in), append(wait, cmd.Wait)
	}
	for _, in := range gos { // start together, so the additions collide
		io.WriteString(in, "go\n")
	}
	fill(sums, counts, 0)
	for _, w := range wait {
		if err := w(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}

	var wantSum [bins]float64
	var wantCount [bins]int64
	for seed := range 3 {
		for i := range histLen {
			v := sample(seed, i)
			wantSum[v%bins] += float64(v)
			wantCount[v%bins]++
		}
	}
	for k := range bins {
		if sums.At(k) != wantSum[k] || counts.At(k) != wantCount[k] {
			t.Errorf("bin %d: sum %v count %d, want %v and %d", k, sums.At(k), counts.At(k), wantSum[k], wantCount[k])
		}
	}
}

// The same adds over heap memory, where the race detector can check
// them.
func TestAtomicsOnHeap(t *testing.T) {
	var sum float64
	var count int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10000 {
				lock.AddFloat64(&sum, 0.5)
				lock.AddInt64(&count, 2)
			}
		})
	}
	wg.Wait()
	if sum != 40000 || count != 160000 {
		t.Fatalf("sum %v count %d, want 40000 and 160000", sum, count)
	}
}

func TestAddFloat64Values(t *testing.T) {
	x := 1.5
	if got := lock.AddFloat64(&x, 2); got != 3.5 || x != 3.5 {
		t.Errorf("1.5+2 returned %v, stored %v", got, x)
	}
	x = math.NaN()
	if got := lock.AddFloat64(&x, 1); !math.IsNaN(got) || !math.IsNaN(x) {
		t.Errorf("NaN+1 returned %v, stored %v", got, x)
	}
	x = math.Copysign(0, -1)
	if lock.AddFloat64(&x, math.Copysign(0, -1)); !math.Signbit(x) {
		t.Errorf("-0 + -0 = %v, want -0", x)
	}
	n := int64(-3)
	if got := lock.AddInt64(&n, 5); got != 2 || n != 2 {
		t.Errorf("-3+5 returned %d, stored %d", got, n)
	}
}
