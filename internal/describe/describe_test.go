package describe

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ndshm/ndshm"
	"github.com/ndshm/ndshm/ring"
)

// With no blocks, the JSON list is [] (not null) and the tables have
// their header alone.
func TestWriteNone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
		want  func(string) bool
	}{
		{"ls --json", func(w *bytes.Buffer) error { return WriteList(w, nil, true, time.Now()) },
			func(s string) bool { return s == "[]\n" }},
		{"ls", func(w *bytes.Buffer) error { return WriteList(w, nil, false, time.Now()) },
			func(s string) bool { return strings.HasPrefix(s, "NAME ") && strings.Count(s, "\n") == 1 }},
		{"top", func(w *bytes.Buffer) error { return WriteUsers(w, nil) },
			func(s string) bool { return strings.HasPrefix(s, "NAME ") && strings.Count(s, "\n") == 1 }},
		{"ring stat", func(w *bytes.Buffer) error { return WriteRing(w, ring.Stat{Name: "r", Mode: "queue"}) },
			func(s string) bool { return strings.HasSuffix(s, "\nno readers subscribed\n") }},
	} {
		var w bytes.Buffer
		if err := tc.write(&w); err != nil || !tc.want(w.String()) {
			t.Errorf("%s of nothing: %q, %v", tc.name, w.String(), err)
		}
	}
}

// A block's human description has its JSON keys in order, and users as
// pids.
func TestWriteBlock(t *testing.T) {
	j := Of(ndshm.Info{Name: "x", Kind: ndshm.KindRaw, Spec: ndshm.Spec{DType: ndshm.Float64, Shape: []int{5}}, Users: []int{4, 12}})
	var w bytes.Buffer
	if err := WriteBlock(&w, j); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name:            x\n", "shape:           (5,)\n", "size_bytes:      40 (40 B)\n",
		"creator_alive:   false\n", "created:         -\n", "users:           4,12\n"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("inspect lacks %q:\n%s", want, w.String())
		}
	}
}

func TestHumanAge(t *testing.T) {
	for d, want := range map[time.Duration]string{-time.Second: "0s", 42 * time.Second: "42s", 5 * time.Minute: "5m", 47 * time.Hour: "47h", 72 * time.Hour: "3d"} {
		if got := humanAge(d); got != want {
			t.Errorf("humanAge(%v) = %q, want %q", d, got, want)
		}
	}
}
