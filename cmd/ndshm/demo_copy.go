package main

import (
	"context"
	"errors"
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

// python has NumPy attach to the demo's block the stock way and sum it.
func (d *demo) python(ctx context.Context, xs []float64) error {
	start := time.Now()
	version, got, err := pySum(ctx, d.name)
	took := time.Since(start)
	if errors.Is(err, errNoNumPy) {
		fmt.Fprintf(d.out, "4. (skipped: %v)\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	n, half := float64(len(xs)), float64(len(xs)/2)
	if want := half*half + (n*(n-1)-half*(half-1))/2; got != want {
		return fmt.Errorf("numpy's sum is %v, want %v", got, want)
	}
	d.step("4. python (numpy %s) attached with np.load(mmap_mode='r+'): sum %.0f matches", version, got)(took)
	return nil
}

const python = "/usr/bin/python3"

var errNoNumPy = errors.New(python + " has no numpy; `make test` installs python3-numpy")

// pySum runs a Python process that attaches to the block name with stock
// NumPy, np.load(mmap_mode='r+'), and returns NumPy's version and sum.
func pySum(ctx context.Context, name string) (string, float64, error) {
	if exec.CommandContext(ctx, python, "-c", "import numpy").Run() != nil {
		return "", 0, errNoNumPy
	}
	const script = `import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode='r+')
print(np.__version__, repr(float(a.sum())))`
	out, err := exec.CommandContext(ctx, python, "-c", script, sys.Path(name)).Output()
	if err != nil {
		return "", 0, fmt.Errorf("python: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return "", 0, fmt.Errorf("python said %q", out)
	}
	sum, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return "", 0, fmt.Errorf("python said %q", out)
	}
	return f[0], sum, nil
}
