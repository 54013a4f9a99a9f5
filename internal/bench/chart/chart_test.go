package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSave(t *testing.T) {
	line := []Series{{Name: "a", X: []float64{1, 10, 100}, Y: []float64{5, 50, 500}}}
	for _, tc := range []struct {
		name, file string
		c          Chart
		ok         bool
		magic      string // how the file starts
	}{
		{"svg lines", "x.svg", Chart{Series: line}, true, "<?xml"},
		{"png lines", "x.PNG", Chart{Series: line}, true, "\x89PNG"},
		{"one point", "x.svg", Chart{Series: []Series{{Name: "p", X: []float64{8}, Y: []float64{3}}}}, true, "<?xml"},
		{"bars", "x.svg", Chart{Categories: []string{"u", "v"}, Series: []Series{{Name: "b", Y: []float64{1, 2}},
			{Name: "c", Y: []float64{3, 0}}}}, true, "<?xml"},
		{"nothing positive", "x.svg", Chart{Series: []Series{{Name: "z", X: []float64{0, 1}, Y: []float64{1, 0}}}}, false, ""},
		{"no series", "x.svg", Chart{}, false, ""},
		{"pdf", "x.pdf", Chart{Series: line}, false, ""},
		{"no extension", "x", Chart{Series: line}, false, ""},
	} {
		path := filepath.Join(t.TempDir(), tc.file)
		err := Save(path, tc.c)
		if (err == nil) != tc.ok {
			t.Errorf("%s: Save: %v, want ok %v", tc.name, err, tc.ok)
			continue
		}
		b, rerr := os.ReadFile(path)
		if tc.ok && (rerr != nil || !bytes.HasPrefix(b, []byte(tc.magic))) {
			t.Errorf("%s: wrote %.20q (%v), want it to start %q", tc.name, b, rerr, tc.magic)
		}
		if !tc.ok && rerr == nil {
			t.Errorf("%s: failed (%v) but wrote %s", tc.name, err, path)
		}
	}
}
