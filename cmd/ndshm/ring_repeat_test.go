package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/ring"
)

// The README's ring example works any number of times in a row on one
// ring: each time a reader started first (Go, or Python's ring-recv)
// gets the new writer's frames, all of them, and both exit 0. Before
// rings carried a stream per writer, the second reader saw the first
// writer's end at once ("received 0 frames"), and the second writer
// waited for it forever.
func TestRingStreamsRepeat(t *testing.T) {
	for _, reader := range []string{"go", "python"} {
		t.Run(reader, func(t *testing.T) {
			name := newName(t)
			mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "48,64", "--slots", "4")
			for i := range 3 {
				var recv interface {
					wait(t *testing.T) (string, int)
				}
				if reader == "go" {
					recv = startCLI(t, "ring", "recv", name, "--frames", "5", "--verify", "--json", "--timeout", "20s")
				} else {
					recv = startPy(t, "ring-recv", name, "--frames", "5", "--verify", "--timeout", "20s")
				}
				waitReaders(t, name, 1) // subscribed before the writer starts, between streams
				send := startCLI(t, "ring", "send", name, "--frames", "5", "--wait-readers", "1", "--timeout", "20s")
				out, code := recv.wait(t)
				sout, scode := send.wait(t)
				rep := decodeJSON[recvReport](t, out)
				if code != 0 || scode != 0 || rep.Frames != 5 || rep.Lost != 0 || rep.Dup != 0 || rep.Torn != 0 {
					t.Fatalf("run %d: recv exit %d %+v; send exit %d %q", i+1, code, rep, scode, sout)
				}
			}
		})
	}
}

// A reader asked for more frames than the stream brings exits non-zero
// and says so, in Go and in Python.
func TestRingRecvTooFewFrames(t *testing.T) {
	for _, reader := range []string{"go", "python"} {
		t.Run(reader, func(t *testing.T) {
			name := newName(t)
			mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "64", "--slots", "4")
			var p interface {
				wait(t *testing.T) (string, int)
				stderr() string
			}
			if reader == "go" {
				p = startCLI(t, "ring", "recv", name, "--frames", "10", "--json", "--timeout", "20s")
			} else {
				p = startPy(t, "ring-recv", name, "--frames", "10", "--timeout", "20s")
			}
			mustRun(t, "ring", "send", name, "--frames", "3", "--wait-readers", "1", "--timeout", "20s")
			out, code := p.wait(t)
			if rep := decodeJSON[recvReport](t, out); code != 1 || rep.Frames != 3 ||
				!strings.Contains(p.stderr(), "the stream ended after 3 of --frames 10 frames") {
				t.Errorf("recv --frames 10 of 3: exit %d, %+v, stderr %q", code, rep, p.stderr())
			}
		})
	}
}

// Every blocking wait gives up after --timeout with an error that says
// what it waited for: send for readers, recv for a writer; and the
// default is not "forever".
func TestRingTimeouts(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "64", "--slots", "2")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ring", "send", name, "--frames", "1", "--wait-readers", "1", "--timeout", "100ms"},
			"ndshm: ring send " + name + ": waited --timeout 100ms for 1 readers to subscribe, 0 did: context deadline exceeded"},
		{[]string{"ring", "recv", name, "--timeout", "100ms"},
			"ndshm: ring recv " + name + ": waited --timeout 100ms for a writer to start a stream: context deadline exceeded"},
	} {
		p := startCLI(t, tc.args...)
		if _, code := p.wait(t); code != 1 || !strings.HasPrefix(p.stderr(), tc.want) {
			t.Errorf("ndshm %q: exit %d, stderr %q; want 1, %q", tc.args, code, p.stderr(), tc.want)
		}
	}
	for _, cmd := range []string{"send", "recv"} {
		out, errOut, _ := ndshmRun(t, "ring", cmd, "-h")
		if !strings.Contains(out+errOut, "(default 30s; 0: never)") {
			t.Errorf("ring %s -h: no 30s default --timeout:\n%s%s", cmd, out, errOut)
		}
	}
	py := startPy(t, "ring-recv", name, "--timeout", "100ms")
	if _, code := py.wait(t); code != 1 || !strings.Contains(py.stderr(), "no writer started a stream") {
		t.Errorf("python ring-recv with no writer: exit %d, stderr %q", code, py.stderr())
	}
}

// waitReaders waits until n readers have subscribed to ring name.
func waitReaders(t *testing.T, name string, n int) {
	t.Helper()
	r, err := ring.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, n); err != nil {
		t.Fatal(err)
	}
}

func (p *cliProc) stderr() string { return p.errOut.String() }

// startPy starts python3 -m ndshm with args.
func startPy(t *testing.T, args ...string) *cliProc {
	t.Helper()
	p := &cliProc{cmd: shmtest.PythonCommand(t, append([]string{"-m", "ndshm"}, args...)...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}
