package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchPlot runs each benchmark on tiny sizes with --plot and checks
// that the file is well-formed SVG holding the title, axis labels and
// every series' name, and that stdout is still the report.
func TestBenchPlot(t *testing.T) {
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"handoff", "--sizes", "1KiB,64KiB"}, []string{"ndshm bench handoff", "size", "p50 round trip (µs)",
			"ndshm, fresh mapping, read touch", "ndshm, warm mapping, read all", "unix socket copy, read touch",
			"unix socket copy, read all", "1 KiB", "64 KiB"}},
		{[]string{"ring", "--sizes", "64,4KiB", "--readers", "1,2", "--duration", "5ms"}, []string{"ndshm bench ring",
			"frame size", "frames/s, full speed", "ndshm-ring, 1 reader", "ndshm-ring-spin, 2 readers",
			"unix-socket-copy, 1 reader", "unix-socket-copy, 2 readers", "4 KiB"}},
		{[]string{"map", "--size", "64KiB", "--runs", "1"}, []string{"ndshm bench map", "ms", "first call",
			"warm p50", "serial ×1", "goroutine ×2", "process ×1", "process ×2"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "out.svg")
			out := mustRun(t, append([]string{"bench", "--json", "--plot", file}, tc.args...)...)
			if !strings.HasPrefix(out, `{"bench":"`+tc.args[0]+`"`) {
				t.Errorf("stdout is not the JSON report: %.200s", out)
			}
			texts := svgTexts(t, file)
			for _, w := range tc.want {
				if !strings.Contains(texts, "\n"+w) {
					t.Errorf("the plot has no text starting %q; it has:%s", w, texts)
				}
			}
		})
	}
}

// svgTexts parses file as XML with an <svg> root and returns its text
// elements' contents, each on a line of its own.
func svgTexts(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	var texts strings.Builder
	texts.WriteString("\n")
	var root string
	inText := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", file, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts.WriteString(strings.TrimSpace(string(tok)) + "\n")
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s's root element is %q, want svg", file, root)
	}
	return texts.String()
}

// TestBenchPlotUsage: a file name Save cannot write is a usage error,
// found before the benchmark runs, which writes nothing.
func TestBenchPlotUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"handoff", "--plot", filepath.Join(dir, "x.pdf")},
		{"map", "--plot", filepath.Join(dir, "x")},
		{"ring", "--plot", filepath.Join(dir, "x.svg.txt")},
	} {
		if _, _, err := ndshmRun(t, append([]string{"bench"}, args...)...); !isUsage(err) {
			t.Errorf("bench %v: %v, want a usage error", args, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("bad --plot names wrote %v", ents)
	}
}
