package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ndshm/ndshm"
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
	cmd := helper("demo-worker")
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
