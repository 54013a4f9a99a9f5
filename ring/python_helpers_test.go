package ring_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// A pyProc is a Python peer (python3 -m ndshm, or a script importing it)
// that talks in stdout lines. The test's cleanup kills it if the test
// did not wait for it, so none outlives its test.
type pyProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string
	done   chan error // the result of Wait, put back by whoever takes it
	stderr pyStderr
}

// pyStderr collects a process's standard error, which the test may read
// while the process still writes it.
type pyStderr struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (e *pyStderr) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.b.Write(b)
}

func (e *pyStderr) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.b.String()
}

// pyHelper runs `python3 -m ndshm args...`; env adds to the environment.
func pyHelper(t *testing.T, env []string, args ...string) *pyProc {
	return pyStart(t, env, append([]string{"-m", "ndshm"}, args...))
}

// pyScript runs script with ndshm, json, numpy as np and sys imported,
// and args as sys.argv[1:].
func pyScript(t *testing.T, script string, args ...string) *pyProc {
	prelude := "import sys, json, time, numpy as np\nimport ndshm\n"
	return pyStart(t, nil, append([]string{"-c", prelude + script}, args...))
}

func pyStart(t *testing.T, env, args []string) *pyProc {
	t.Helper()
	p := &pyProc{t: t, cmd: shmtest.PythonCommand(t, args...),
		lines: make(chan string, 1024), done: make(chan error, 1)}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stderr = &p.stderr
	out, _ := p.cmd.StdoutPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- p.cmd.Wait()
	}()
	t.Cleanup(p.kill)
	return p
}

// line returns the next stdout line, failing the test if none comes
// within 10 s.
func (p *pyProc) line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			err := <-p.done
			p.done <- err
			p.t.Fatalf("python exited early: %v\n%s", err, p.stderr.String())
		}
		return l
	case <-time.After(10 * time.Second):
		p.t.Fatalf("no line from python within 10 s\n%s", p.stderr.String())
	}
	return ""
}

// result waits up to 15 s for the process to end and decodes its last
// stdout line as JSON into out; it returns the exit error.
func (p *pyProc) result(out any) error {
	p.t.Helper()
	var last string
	timeout := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if ok {
				last = l
				continue
			}
			err := <-p.done
			p.done <- err // for kill
			if out != nil {
				if jerr := json.Unmarshal([]byte(last), out); jerr != nil {
					p.t.Fatalf("python printed %q (%v): %v\n%s", last, err, jerr, p.stderr.String())
				}
			}
			return err
		case <-timeout:
			p.t.Fatalf("python still running after 15 s\n%s", p.stderr.String())
		}
	}
}

// kill ends the process with SIGKILL, if it still runs, and reaps it.
func (p *pyProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	for range p.lines {
	}
	err := <-p.done
	p.done <- err
}

// pyItem is element i of ring send's test pattern, as the Go side of
// these tests writes and checks it: i in the dtype (little-endian
// integers and floats only).
func pyItem(dt ndshm.DType, i uint64) []byte {
	b := make([]byte, 8)
	switch {
	case dt.Kind() == 'f' && dt.Size() == 4:
		binary.LittleEndian.PutUint32(b, math.Float32bits(float32(i)))
	case dt.Kind() == 'f':
		binary.LittleEndian.PutUint64(b, math.Float64bits(float64(i)))
	default:
		binary.LittleEndian.PutUint64(b, i)
	}
	return b[:dt.Size()]
}

// pyFill writes frame i's pattern into b, doubling the run written so
// that the race detector does not make it slow.
func pyFill(dt ndshm.DType, b []byte, i uint64) {
	for n := copy(b, pyItem(dt, i)); n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// pyIntact reports whether b holds frame i's pattern.
func pyIntact(dt ndshm.DType, b []byte, i uint64) bool {
	item := pyItem(dt, i)
	if !bytes.HasPrefix(b, item) {
		return false
	}
	for n := len(item); n < len(b); n *= 2 {
		if !bytes.Equal(b[n:min(2*n, len(b))], b[:min(n, len(b)-n)]) {
			return false
		}
	}
	return true
}

// pyRing creates a ring for a Python test, closed (and unlinked) at the
// end of the test.
func pyRing(t *testing.T, c ring.Config) *ring.Ring {
	t.Helper()
	r, err := ring.Create(shmtest.Name(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// pyPublish writes n frames of the pattern with tag i, frame bad (if any)
// with one byte wrong, and closes the writer.
func pyPublish(t *testing.T, r *ring.Ring, n, bad int) {
	t.Helper()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dt := r.Block().DType()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		f, err := w.Loan(ctx)
		cancel()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		pyFill(dt, f.Bytes(), uint64(i))
		if i == bad {
			f.Bytes()[len(f.Bytes())-1] ^= 1
		}
		if err := w.Publish(uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// pySeq reports whether seqs are 0, 1, …, n-1.
func pySeq(seqs []uint64, n int) bool {
	return len(seqs) == n && (n == 0 || seqs[0] == 0 && seqs[n-1] == uint64(n-1) && slices.IsSorted(seqs) &&
		len(slices.Compact(slices.Clone(seqs))) == n)
}
