package demo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/reexec"
	"github.com/ndshm/ndshm/internal/sys"
)

// The demo's worker transforms rows [lo, hi) of a float64 vector, x ↦ 2x+1,
// and returns their sum: either in place in a block it attaches by name
// (opShared), or on a copy sent through its socket, which it sends back
// (opCopied). Frames: request op u8, lo u64, hi u64, n u64, n bytes;
// reply sum f64, m u64, m bytes.
const (
	opShared = 's'
	opCopied = 'c'
)

var le = binary.LittleEndian

// Worker is the role "demo-worker": the job's worker, serving requests
// on fd 3 until EOF.
func Worker([]string) int { return reexec.Exit("demo-worker", serveDemo()) }

// serveDemo is the worker's life: requests on fd 3 until EOF.
func serveDemo() error {
	conn := os.NewFile(3, "demo")
	defer conn.Close()
	var req [25]byte
	for {
		if _, err := io.ReadFull(conn, req[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		lo, hi, n := int(le.Uint64(req[1:])), int(le.Uint64(req[9:])), int64(le.Uint64(req[17:]))
		payload := make([]byte, n)
		if _, err := io.ReadFull(conn, payload); err != nil {
			return err
		}
		sum, back, err := work(req[0], lo, hi, payload)
		if err != nil {
			return err
		}
		var rep [16]byte
		le.PutUint64(rep[:], math.Float64bits(sum))
		le.PutUint64(rep[8:], uint64(len(back)))
		if _, err := conn.Write(append(rep[:], back...)); err != nil {
			return err
		}
	}
}

func work(op byte, lo, hi int, payload []byte) (float64, []byte, error) {
	switch op {
	case opShared:
		b, err := ndshm.Open(string(payload))
		if err != nil {
			return 0, nil, err
		}
		defer b.Close()
		a, err := ndshm.View[float64](b)
		if err != nil || a.NDim() != 1 || hi > a.Len() || lo > hi {
			return 0, nil, fmt.Errorf("demo: bad block or range [%d, %d): %v", lo, hi, err)
		}
		xs, _ := a.Rows(lo, hi).Flat()
		return transform(xs), nil, nil
	case opCopied:
		xs := decode(payload) // the copying channel's deserialize step
		if hi > len(xs) || lo > hi {
			return 0, nil, fmt.Errorf("demo: bad range [%d, %d)", lo, hi)
		}
		sum := transform(xs[lo:hi])
		return sum, encode(xs[lo:hi]), nil
	}
	return 0, nil, fmt.Errorf("demo: unknown op %q", op)
}

func transform(xs []float64) float64 {
	sum := 0.0
	for i, x := range xs {
		x = 2*x + 1
		xs[i] = x
		sum += x
	}
	return sum
}

func encode(xs []float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		le.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func decode(b []byte) []float64 {
	xs := make([]float64, len(b)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(le.Uint64(b[8*i:]))
	}
	return xs
}

// demoWorker is the parent's handle on a running worker.
type demoWorker struct {
	conn *os.File
	cmd  interface{ Wait() error }
}

func startDemoWorker() (*demoWorker, error) {
	mine, theirs, err := sys.Socketpair(sys.SockStream)
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	cmd := reexec.Command("demo-worker")
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		mine.Close()
		return nil, err
	}
	return &demoWorker{conn: mine, cmd: cmd}, nil
}

// call sends one request and returns the sum and any data sent back.
func (w *demoWorker) call(op byte, lo, hi int, payload []byte) (float64, []byte, error) {
	var req [25]byte
	req[0] = op
	le.PutUint64(req[1:], uint64(lo))
	le.PutUint64(req[9:], uint64(hi))
	le.PutUint64(req[17:], uint64(len(payload)))
	if _, err := w.conn.Write(req[:]); err != nil {
		return 0, nil, err
	}
	if _, err := w.conn.Write(payload); err != nil {
		return 0, nil, err
	}
	var rep [16]byte
	if _, err := io.ReadFull(w.conn, rep[:]); err != nil {
		return 0, nil, fmt.Errorf("demo worker died: %w", err)
	}
	m := le.Uint64(rep[8:])
	if m > 1<<40 {
		return 0, nil, fmt.Errorf("demo worker sent a %d-byte reply", m)
	}
	back := make([]byte, m)
	_, err := io.ReadFull(w.conn, back)
	return math.Float64frombits(le.Uint64(rep[:])), back, err
}

func (w *demoWorker) Close() error {
	w.conn.Close()
	return w.cmd.Wait()
}

// copied does the same job through the fastest copying channel: the array
// is serialized, sent through the worker's unix socket, deserialized; the
// worker sends the transformed half back the same way.
func (d *session) copied(w *demoWorker) error {
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
	d.res.Job.Channels = append(d.res.Job.Channels,
		Channel{"unix socket (serialize, copy, deserialize)", took, len(payload) + len(back), sum})
	return nil
}

// python has NumPy attach to the demo's block the stock way and sum it.
func (d *session) python(ctx context.Context, xs []float64) error {
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
	d.res.Job.NumPy, d.res.Job.NumPySum = version, got
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
