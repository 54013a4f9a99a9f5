package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/shmtest"
	"github.com/ndshm/ndshm/internal/stream"
	"github.com/ndshm/ndshm/ring"
)

// A cliProc is an ndshm command line running in a process of its own.
type cliProc struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
}

func startCLI(t *testing.T, args ...string) *cliProc {
	t.Helper()
	p := &cliProc{cmd: shmtest.Command("ndshm", args...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil { // the test failed before waiting
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// wait returns the process's stdout and exit status.
func (p *cliProc) wait(t *testing.T) (string, int) {
	t.Helper()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return p.out.String(), p.cmd.ProcessState.ExitCode()
}

// Two readers in other processes, started first, each get every frame
// of a broadcast/block ring, in order and intact.
func TestRingSendRecvBroadcast(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "16,16", "--slots", "4")
	const n = 300
	asJSON := startCLI(t, "ring", "recv", name, "--frames", "300", "--verify", "--json", "--timeout", "20s")
	asText := startCLI(t, "ring", "recv", name, "--verify", "--timeout", "20s")
	sent := decodeJSON[sendReport](t, mustRun(t, "ring", "send", name, "--frames", "300",
		"--wait-readers", "2", "--timeout", "20s", "--json"))
	if sent.Frames != n || sent.FrameBytes != 256 || sent.FPS <= 0 || sent.BytesPerS <= 0 {
		t.Errorf("ring send --json: %+v", sent)
	}
	out, code := asJSON.wait(t)
	got := decodeJSON[recvReport](t, out)
	if code != 0 || got.Frames != n || got.Lost != 0 || got.Dup != 0 || got.Torn != 0 || got.Missed != 0 ||
		got.FPS <= 0 || got.P50 <= 0 || got.P99 < got.P50 {
		t.Errorf("ring recv --json: exit %d, %+v; stderr %s", code, got, asJSON.errOut.String())
	}
	for _, key := range []string{`"frames"`, `"lost"`, `"dup"`, `"torn"`, `"fps"`, `"p50_us"`, `"p99_us"`, `"missed"`} {
		if !strings.Contains(out, key) {
			t.Errorf("ring recv --json lacks %s: %s", key, out)
		}
	}
	// Without --frames the reader stops at the end of the stream.
	out, code = asText.wait(t)
	if code != 0 || !strings.HasPrefix(out, "received 300 frames of 256 B") ||
		!strings.Contains(out, "lost 0, duplicated 0, torn 0, missed 0") {
		t.Errorf("ring recv: exit %d, %q; stderr %s", code, out, asText.errOut.String())
	}
}

// In queue mode each frame goes to exactly one of the readers.
func TestRingSendRecvQueue(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "<f8", "--shape", "8", "--slots", "3", "--mode", "queue")
	readers := []*cliProc{
		startCLI(t, "ring", "recv", name, "--verify", "--json", "--timeout", "20s"),
		startCLI(t, "ring", "recv", name, "--verify", "--json", "--timeout", "20s"),
	}
	mustRun(t, "ring", "send", name, "--frames", "400", "--wait-readers", "2", "--timeout", "20s")
	total := 0
	for i, p := range readers {
		out, code := p.wait(t)
		got := decodeJSON[recvReport](t, out)
		if code != 0 || got.Lost != 0 || got.Dup != 0 || got.Torn != 0 {
			t.Errorf("queue reader %d: exit %d, %+v; stderr %s", i, code, got, p.errOut.String())
		}
		total += got.Frames
	}
	if total != 400 {
		t.Errorf("queue readers got %d frames between them, want 400", total)
	}
}

// Usage errors exit with status 2 and failures with 1, as a real
// process shows.
func TestRingExitStatus(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"ring", "create", shmtest.Name(), "--dtype", "u1", "--shape", "4", "--slots", "0"}, 2,
			"ndshm: ring create: --slots 0: want 1 to 65535\n\nusage: ndshm ring create NAME"},
		{[]string{"ring", "recv", shmtest.Name()}, 1, "ndshm: open ndshm-test-"},
	} {
		p := startCLI(t, tc.args...)
		if _, code := p.wait(t); code != tc.code || !strings.HasPrefix(p.errOut.String(), tc.stderr) {
			t.Errorf("ndshm %q: exit %d, stderr %q; want %d, %q...", tc.args, code, p.errOut.String(), tc.code, tc.stderr)
		}
	}
}

// A frame that does not hold the pattern its tag names is torn to recv
// --verify, which then fails.
func TestRingRecvVerifyFails(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "64", "--slots", "2")
	p := startCLI(t, "ring", "recv", name, "--verify", "--json", "--timeout", "20s")
	r, err := ring.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := r.Writer()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.WaitReaders(ctx, 1); err != nil {
		t.Fatal(err)
	}
	pat, _ := stream.NewPattern(ndshm.Uint8)
	for i, content := range []uint64{0, 1, 7, 3} { // frame 2 holds frame 7's pattern
		f, err := w.Loan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pat.Fill(f.Bytes(), content)
		w.Publish(uint64(i))
	}
	w.Close()
	out, code := p.wait(t)
	got := decodeJSON[recvReport](t, out)
	if code != 1 || got.Frames != 4 || got.Torn != 1 || got.Dup != 0 || got.Lost != 0 ||
		!strings.Contains(p.errOut.String(), "1 torn and 0 duplicated frames") {
		t.Errorf("ring recv --verify of a bad frame: exit %d, %+v, stderr %q", code, got, p.errOut.String())
	}
}
