package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/internal/cmdflag"
	"github.com/ndshm/ndshm/internal/describe"
	"github.com/ndshm/ndshm/ring"
)

func TestRingCreateStatRm(t *testing.T) {
	name := newName(t)
	info := decodeJSON[describe.Block](t, mustRun(t, "ring", "create", name, "--dtype", "<i2", "--shape", "2,3",
		"--slots", "4", "--mode", "queue", "--policy", "overwrite", "--readers", "2", "--json"))
	if info.Kind != "ring" || info.DType != "<i2" || !slices.Equal(info.Shape, []int{4, 2, 3}) || !info.Persistent {
		t.Errorf("ring create --json: %+v", info)
	}
	st := decodeJSON[ring.Stat](t, mustRun(t, "ring", "stat", "/dev/shm/"+name, "--json"))
	if st.Mode != "queue" || st.Policy != "overwrite" || st.Slots != 4 || st.FrameBytes != 12 ||
		st.Head != 0 || st.Writer != "none" || len(st.Readers) != 0 {
		t.Errorf("ring stat --json: %+v", st)
	}
	out := mustRun(t, "ring", "stat", name)
	for _, want := range []string{"queue, overwrite, 4 slots of 12 B", "writer: none, 0 frames published", "no readers subscribed"} {
		if !strings.Contains(out, want) {
			t.Errorf("ring stat lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := ndshmRun(t, "ring", "create", name, "--dtype", "u1", "--shape", "1", "--slots", "1"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("ring create over an existing name: %v", err)
	}
	mustRun(t, "rm", name)
	if exists(name) {
		t.Errorf("rm left ring %s", name)
	}
}

// A subscribed reader shows in stat's table, with this process's pid;
// the defaults are broadcast and block.
func TestRingStatReaders(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "f4", "--shape", "8", "--slots", "2")
	subscribe(t, name)
	st := decodeJSON[ring.Stat](t, mustRun(t, "ring", "stat", name, "--json"))
	if st.Mode != "broadcast" || st.Policy != "block" || len(st.Readers) != 1 ||
		st.Readers[0].PID != os.Getpid() || !st.Readers[0].Alive || st.Readers[0].Holding != -1 {
		t.Errorf("ring stat --json with a reader: %+v", st)
	}
	out := mustRun(t, "ring", "stat", name)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "alive") || !slices.Equal(strings.Fields(lines[3]),
		[]string{"0", strconv.Itoa(os.Getpid()), "yes", "0", "0", "-", "0", "0"}) {
		t.Errorf("ring stat with a reader:\n%s", out)
	}
}

func TestRingUsageErrors(t *testing.T) {
	name := newName(t)
	mk := func(extra ...string) []string {
		return append([]string{"ring", "create", name, "--dtype", "u1", "--shape", "4", "--slots", "2"}, extra...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ring"}, "ring: missing COMMAND"},
		{[]string{"ring", "bogus"}, `ring: unknown command "bogus"`},
		{[]string{"ring", "create"}, "ring create: missing NAME"},
		{[]string{"ring", "create", name, "--dtype", "u1", "--shape", "4"}, "--slots are required"},
		{mk("--slots", "0"), "--slots 0: want 1 to 65535"},
		{mk("--slots", "65536"), "--slots 65536: want 1 to 65535"},
		{mk("--mode", "fanout"), `unknown mode "fanout" (want broadcast or queue)`},
		{mk("--policy", "drop"), `unknown policy "drop" (want block or overwrite)`},
		{mk("--readers", "0"), "--readers 0: want 1 to 64"},
		{mk("--dtype", "f9"), `unknown dtype "f9"`},
		{mk("extra"), `unexpected argument "extra"`},
		{[]string{"ring", "send"}, "ring send: missing NAME"},
		{[]string{"ring", "send", name, "--rate", "-1"}, "--rate must be"},
		{[]string{"ring", "send", name, "--frames", "-1"}, "cannot be negative"},
		{[]string{"ring", "recv"}, "ring recv: missing NAME"},
		{[]string{"ring", "recv", name, "--timeout", "-1s"}, "cannot be negative"},
		{[]string{"ring", "recv", name, "--verify=maybe"}, "invalid boolean value"},
		{[]string{"ring", "stat"}, "ring stat: missing NAME"},
	} {
		_, errOut, err := ndshmRun(t, tc.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tc.want) || errOut != "" {
			t.Errorf("ndshm %q: %v, stderr %q; want a usage error containing %q", tc.args, err, errOut, tc.want)
		}
		if exists(name) {
			t.Fatalf("ndshm %q made %s", tc.args, name)
		}
	}
	// The usage after an error points at a help that works.
	var w bytes.Buffer
	_, _, err := ndshmRun(t, "ring", "send")
	if cmdflag.Report(err, &w); !strings.Contains(w.String(), "usage: ndshm ring send NAME") ||
		!strings.Contains(w.String(), "Run 'ndshm help ring send'") {
		t.Errorf("ring send's usage error printed:\n%s", w.String())
	}
	if out := mustRun(t, "help", "ring", "send"); !strings.HasPrefix(out, "usage: ndshm ring send NAME") {
		t.Errorf("ndshm help ring send printed %q", out)
	}
}

func TestRingErrors(t *testing.T) {
	array, bytesRing, u1Ring, missing := newName(t), newName(t), newName(t), newName(t)
	makeBlock(t, array, ndshm.Spec{DType: ndshm.Uint8, Shape: []int{4}}, func(i int) uint8 { return 0 })
	mustRun(t, "ring", "create", bytesRing, "--dtype", "S4", "--shape", "2", "--slots", "2")
	mustRun(t, "ring", "create", u1Ring, "--dtype", "u1", "--shape", "2", "--slots", "2")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ring", "recv", array}, "is not a ring but a block of kind array"},
		{[]string{"ring", "send", array}, "is not a ring"},
		{[]string{"ring", "stat", array}, "is not a ring"},
		{[]string{"ring", "stat", missing}, "no such file"},
		{[]string{"ring", "send", bytesRing}, "test pattern is not defined for dtype |S4"},
		{[]string{"ring", "recv", bytesRing, "--verify"}, "test pattern is not defined"},
		{[]string{"ring", "recv", u1Ring, "--timeout", "20ms"}, "waited --timeout 20ms for a writer to start a stream"},
		{[]string{"ring", "send", u1Ring, "--wait-readers", "1", "--timeout", "20ms"}, "waited --timeout 20ms for 1 readers to subscribe, 0 did: context deadline exceeded"},
	} {
		_, _, err := ndshmRun(t, tc.args...)
		if err == nil || isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ndshm %q: %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}

func TestRingHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "ring"}, {"ring", "-h"}, {"ring", "help"},
		{"ring", "create", "-h"}, {"ring", "help", "create"}, {"ring", "send", "--help"}, {"ring", "recv", "-h"}, {"ring", "stat", "-h"}} {
		out, errOut, err := ndshmRun(t, args...)
		if err != nil || errOut != "" || !strings.HasPrefix(out, "usage: ndshm ring") {
			t.Errorf("ndshm %v: %v, stdout %q, stderr %q", args, err, out, errOut)
		}
	}
	if out := mustRun(t, "help", "ring"); !strings.Contains(out, "  recv    receive frames") {
		t.Errorf("ndshm help ring does not list recv:\n%s", out)
	}
}

// --rate paces the frames: 5 frames at 200 a second take at least the 4
// intervals between them. With no reader subscribed, a broadcast ring
// drops them and never makes the writer wait.
func TestRingSendRate(t *testing.T) {
	name := newName(t)
	mustRun(t, "ring", "create", name, "--dtype", "c8", "--shape", "3", "--slots", "1")
	rep := decodeJSON[sendReport](t, mustRun(t, "ring", "send", name, "--frames", "5", "--rate", "200", "--json"))
	if rep.Frames != 5 || rep.FrameBytes != 24 || rep.Seconds < 0.02 {
		t.Errorf("ring send --rate 200 --frames 5: %+v", rep)
	}
	if st := decodeJSON[ring.Stat](t, mustRun(t, "ring", "stat", name, "--json")); st.Head != 5 || st.Writer != "closed" {
		t.Errorf("after ring send: %+v", st)
	}
}

// subscribe opens the ring name and subscribes a reader to it, both
// closed when the test ends, and returns the ring.
func subscribe(t *testing.T, name string) *ring.Ring {
	t.Helper()
	r, err := ring.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	rd, err := r.Reader()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return r
}
