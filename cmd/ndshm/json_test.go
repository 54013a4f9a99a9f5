package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ndshm/ndshm/internal/describe"
)

// Every command that reports something prints JSON with --json, in one
// vocabulary: size_bytes for bytes, count for elements (docs/JSON.md).
func TestJSONVocabulary(t *testing.T) {
	a, b := newName(t), newName(t)
	npy := filepath.Join(t.TempDir(), "a.npy")
	for _, tc := range []struct {
		args []string
		want map[string]any // keys of the (first) object, with values where known
	}{
		{[]string{"create", a, "--dtype", "f8", "--shape", "4,5", "--fill", "2", "--json"},
			map[string]any{"name": a, "count": 20.0, "size_bytes": 160.0, "file_size_bytes": 12288.0}},
		{[]string{"inspect", a, "--json"}, map[string]any{"name": a, "count": 20.0, "size_bytes": 160.0}},
		{[]string{"ls", "--json"}, map[string]any{"count": nil, "size_bytes": nil}},
		{[]string{"map", a, "--op", "scale=2", "--workers", "2", "--json"},
			map[string]any{"name": a, "op": "scale=2", "out": nil, "count": 20.0, "size_bytes": 160.0, "workers": 2.0, "seconds": nil}},
		{[]string{"stats", a, "--json"}, map[string]any{"name": a, "count": 20.0, "sum": 80.0}},
		{[]string{"save", a, npy, "--json"}, map[string]any{"name": a, "path": npy, "size_bytes": 288.0}},
		{[]string{"load", npy, b, "--json"}, map[string]any{"name": b, "count": 20.0, "size_bytes": 160.0}},
		{[]string{"rm", a, b, "--json"}, map[string]any{"name": a, "removed": true, "error": nil}},
		{[]string{"gc", "--dry-run", "--json"}, map[string]any{"freed_bytes": nil, "dry_run": true}},
	} {
		out := mustRun(t, tc.args...)
		var got map[string]any
		if strings.HasPrefix(out, "[") {
			list := decodeJSON[[]map[string]any](t, out)
			if tc.args[0] == "ls" {
				list = pick(list, a)
			}
			if len(list) == 0 {
				t.Errorf("ndshm %q: empty list", tc.args)
				continue
			}
			got = list[0]
		} else {
			got = decodeJSON[map[string]any](t, out)
		}
		for k, v := range tc.want {
			if gv, ok := got[k]; !ok || v != nil && gv != v {
				t.Errorf("ndshm %q: %s = %v (present %v), want %v", tc.args, k, gv, ok, v)
			}
		}
		for _, old := range []string{"size", "nbytes", "file_size", "bytes_freed"} {
			if _, ok := got[old]; ok {
				t.Errorf("ndshm %q still prints %q", tc.args, old)
			}
		}
	}
}

// pick is the objects of list named name.
func pick(list []map[string]any, name string) []map[string]any {
	var out []map[string]any
	for _, m := range list {
		if m["name"] == name {
			out = append(out, m)
		}
	}
	return out
}

func TestRmJSONFailure(t *testing.T) {
	name := newName(t)
	out, _, err := ndshmRun(t, "rm", name, "--json")
	if err == nil {
		t.Fatal("rm of a missing block succeeded")
	}
	got := decodeJSON[[]rmJSON](t, out)
	if len(got) != 1 || got[0].Name != name || got[0].Removed || got[0].Error == nil {
		t.Errorf("rm --json of a missing block: %+v", got)
	}
}

func TestSaveJSONToStdoutRefused(t *testing.T) {
	if _, _, err := ndshmRun(t, "save", newName(t), "-", "--json"); !isUsage(err) {
		t.Errorf("save NAME - --json: %v, want a usage error", err)
	}
}

// serve --json logs one JSON object per line.
func TestServeJSONLog(t *testing.T) {
	npy := serveNPY(t, 10)
	name := newName(t)
	socket := filepath.Join(t.TempDir(), "s.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"serve", "--socket", socket, "--load", name + "=" + npy, "--gc-interval", "0", "--json"},
			strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()
	dialWait(t, socket).Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var msgs []string
	for _, line := range lines {
		l := decodeJSON[logLine](t, line)
		if _, err := time.Parse(time.RFC3339Nano, l.Time); err != nil || l.Msg == "" {
			t.Errorf("log line %q: time %v, msg %q", line, err, l.Msg)
		}
		msgs = append(msgs, l.Msg)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"loaded " + name, "serving on " + socket, "stopped"} {
		if !strings.Contains(all, want) {
			t.Errorf("log lacks %q:\n%s", want, all)
		}
	}
}

// load - reads the .npy file from stdin, and neither load nor save
// writes anything to a stderr that is not a terminal.
func TestLoadStdinQuiet(t *testing.T) {
	a, b := newName(t), newName(t)
	mustRun(t, "create", a, "--dtype", "i2", "--shape", "3,4", "--fill", "7")
	var npy, errOut bytes.Buffer
	if err := run(context.Background(), []string{"save", a, "-"}, strings.NewReader(""), &npy, &errOut); err != nil || errOut.Len() > 0 {
		t.Fatalf("save -: %v, stderr %q", err, &errOut)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"load", "-", b, "--json"}, bytes.NewReader(npy.Bytes()), &out, &errOut); err != nil || errOut.Len() > 0 {
		t.Fatalf("load -: %v, stderr %q", err, &errOut)
	}
	if j := decodeJSON[describe.Block](t, out.String()); j.DType != "<i2" || j.Count != 12 {
		t.Errorf("load - made %+v", j)
	}
	if got := mustRun(t, "stats", b, "--json"); !strings.Contains(got, `"sum": 84`) {
		t.Errorf("stats of the loaded block: %s", got)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	_, errText, err := ndshmRun(t, "save", b, path)
	if err != nil || errText != "" {
		t.Errorf("save to a file: %v, stderr %q", err, errText)
	}
	if _, errText, err := ndshmRun(t, "load", "-", newName(t)); err == nil || errText != "" {
		t.Errorf("load - of an empty stdin: %v, stderr %q", err, errText)
	}
	os.Remove(path)
}

// syncBuffer is a bytes.Buffer that a command's goroutines may write
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
