package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm/internal/sys"
)

// copied does the same job through the fastest copying channel: the array
// is serialized, sent through the worker's unix socket, deserialized; the
// worker sends the transformed half back the same way.
func (d *demo) copied(w *demoWorker) error {
	xs := make([]float64, demoLen)
	for i := range xs {
		xs[i] = float64(i)
	}
	start := time.Now()
	payload := encode(xs)
	sum, back, err := w.call(opCopied, 0, demoLen/2, payload)
	if err != nil {
		return err
	}
	copy(xs, decode(back))
	took := time.Since(start)
	if err := check(xs, sum); err != nil {
		return fmt.Errorf("copying channel: %w", err)
	}
	d.step("5. same job through a unix socket: %d MiB there, %d MiB back", len(payload)>>20, len(back)>>20)(took)
	moved := fmt.Sprintf("%d MiB", (len(payload)+len(back))>>20)
	d.rows = append(d.rows, demoRow{"unix socket (serialize, copy, deserialize)", took, moved})
	return nil
}

// python has NumPy attach to the block the stock way and sum it.
func (d *demo) python(ctx context.Context, xs []float64) error {
	const py = "/usr/bin/python3"
	if exec.CommandContext(ctx, py, "-c", "import numpy").Run() != nil {
		fmt.Fprintf(d.out, "4. (skipped: %s has no numpy; `make test` installs python3-numpy)\n", py)
		return nil
	}
	const script = `import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode='r+')
print(np.__version__, repr(float(a.sum())))`
	start := time.Now()
	out, err := exec.CommandContext(ctx, py, "-c", script, sys.Path(d.name)).Output()
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("python: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return fmt.Errorf("python said %q", out)
	}
	got, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return fmt.Errorf("python said %q", out)
	}
	n, half := float64(len(xs)), float64(len(xs)/2)
	want := half*half + (n*(n-1)-half*(half-1))/2
	if got != want {
		return fmt.Errorf("numpy's sum is %v, want %v", got, want)
	}
	d.step("4. python (numpy %s) attached with np.load(mmap_mode='r+'): sum %.0f matches", f[0], got)(took)
	return nil
}
