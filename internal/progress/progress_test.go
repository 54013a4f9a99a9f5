package progress

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// On a terminal, a bar is drawn in place and cleared; with no known total
// it shows the bytes so far.
func TestBarDraws(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int64
		adds  []int64
		want  []string
	}{
		{"known total", 4 << 20, []int64{1 << 20, 3 << 20}, []string{ // the last add is drawn at once: done
			"\rloading x [=======                       ]  25%  1 MiB / 4 MiB  ",
			"\rloading x [==============================] 100%  4 MiB / 4 MiB  ",
		}},
		{"unknown total", 0, []int64{3 << 20}, []string{"\rloading x  3 MiB  "}},
	} {
		var w bytes.Buffer
		b := &Bar{w: &w, verb: "loading"}
		b.Start("x", tc.total)
		for _, n := range tc.adds {
			b.Add(n)
		}
		b.Clear()
		out := w.String()
		for _, want := range tc.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s: bar lacks %q: %q", tc.name, want, out)
			}
		}
		if !strings.HasSuffix(out, " MiB/s\033[K\r\033[K") {
			t.Errorf("%s: bar was not cleared: %q", tc.name, out)
		}
	}
}

// A bar on anything but a terminal, or within its delay, draws nothing.
func TestBarSilent(t *testing.T) {
	var w bytes.Buffer
	for _, tc := range []struct {
		name string
		bar  *Bar
	}{
		{"not a terminal", New(&w, "loading")},
		{"within its delay", &Bar{w: &w, verb: "mapping", delay: time.Hour}},
	} {
		tc.bar.Start("x", 10)
		tc.bar.Add(5)
		tc.bar.Add(5)
		tc.bar.Clear()
		if w.Len() > 0 {
			t.Errorf("%s: drew %q", tc.name, w.String())
		}
	}
	if New(&w, "x").Live() || IsTerminal(&w) {
		t.Error("a buffer taken for a terminal")
	}
}

// The reader and the writer count every byte, in pieces, and stop once
// their context is done.
func TestReaderWriter(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 5<<20+3)
	var bar Bar
	bar.Start("x", int64(len(data)))
	var out bytes.Buffer
	w := NewWriter(context.Background(), &out, &bar)
	if n, err := io.Copy(w, NewReader(context.Background(), bytes.NewReader(data), "f", &bar)); err != nil || n != int64(len(data)) {
		t.Fatalf("copy: %d, %v", n, err)
	}
	if !bytes.Equal(out.Bytes(), data) || bar.done != 2*int64(len(data)) {
		t.Errorf("copied %d bytes, counted %d; want %d, twice", out.Len(), bar.done, len(data))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewReader(ctx, bytes.NewReader(data), "f", &bar).Read(make([]byte, 10)); !errors.Is(err, context.Canceled) {
		t.Errorf("read after cancel: %v", err)
	}
	if n, err := NewWriter(ctx, io.Discard, &bar).Write(data); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("write after cancel: %d, %v", n, err)
	}
}
